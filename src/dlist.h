/* dlist.h - the intrusive doubly-linked list behind the age and recency
 * lists of the bounded tables.
 *
 * The list is a ring through a sentinel (the struct dlist the owner holds),
 * as in the Linux kernel's list.h: every entry always has a neighbour on
 * both sides, so linking and unlinking are four stores with no special case
 * for the first or last entry.  An entry embeds its own struct dlist;
 * dlist_entry() gets from the link back to the entry.  Nothing here
 * allocates.
 */
#ifndef TS_DLIST_H
#define TS_DLIST_H

#include <stdbool.h>
#include <stddef.h>

struct dlist {
	struct dlist *prev, *next;
};

/* The entry of type `type` whose member `member` is the link `l`. */
#define dlist_entry(l, type, member) ((type *)(void *)((char *)(l) - offsetof(type, member)))

/* An empty list: the sentinel is its own neighbour. */
static inline void dlist_init(struct dlist *list)
{
	list->prev = list->next = list;
}

static inline bool dlist_empty(const struct dlist *list)
{
	return list->next == list;
}

/* The first link (the head), or NULL when the list is empty. */
static inline struct dlist *dlist_first(const struct dlist *list)
{
	return dlist_empty(list) ? NULL : list->next;
}

/* Link n in just before `at` (a link of the list, or the sentinel for the
 * tail). */
static inline void dlist_insert_before(struct dlist *at, struct dlist *n)
{
	n->prev = at->prev;
	n->next = at;
	at->prev->next = n;
	at->prev = n;
}

static inline void dlist_push_tail(struct dlist *list, struct dlist *n)
{
	dlist_insert_before(list, n);
}

static inline void dlist_push_head(struct dlist *list, struct dlist *n)
{
	dlist_insert_before(list->next, n);
}

/* Take n out of its list; it is left pointing nowhere. */
static inline void dlist_unlink(struct dlist *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
}

#endif
