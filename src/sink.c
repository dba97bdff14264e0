/* sink.c - the list of outputs and the calls that fan a record out to them. */
#include "sink.h"

int sinks_add(struct sinks *ss, struct sink s)
{
	if (!s.ctx || ss->n >= SINKS_MAX) {
		if (s.ctx && s.ops->free)
			s.ops->free(s.ctx);
		return -1;
	}
	ss->s[ss->n++] = s;
	return 0;
}

void sinks_flow(struct sinks *ss, const struct flow_record *r)
{
	for (int i = 0; i < ss->n; i++)
		ss->s[i].ops->flow(ss->s[i].ctx, r);
}

void sinks_interval(struct sinks *ss, const struct run_tick *t)
{
	for (int i = 0; i < ss->n; i++)
		if (ss->s[i].ops->interval)
			ss->s[i].ops->interval(ss->s[i].ctx, t);
}

void sinks_flush(struct sinks *ss)
{
	for (int i = 0; i < ss->n; i++)
		if (ss->s[i].ops->flush)
			ss->s[i].ops->flush(ss->s[i].ctx);
}

void sinks_reopen(struct sinks *ss)
{
	for (int i = 0; i < ss->n; i++)
		if (ss->s[i].ops->reopen)
			ss->s[i].ops->reopen(ss->s[i].ctx);
}

void sinks_report(struct sinks *ss)
{
	for (int i = 0; i < ss->n; i++)
		if (ss->s[i].ops->report)
			ss->s[i].ops->report(ss->s[i].ctx);
}

int sinks_finish(struct sinks *ss, const struct run_end *end)
{
	int rc = 0;
	for (int i = 0; i < ss->n; i++) {
		const struct sink_ops *ops = ss->s[i].ops;
		if (ops->finish && ops->finish(ss->s[i].ctx, end) < 0)
			rc = -1;
		else if (!ops->finish && ops->report)
			ops->report(ss->s[i].ctx);
	}
	return rc;
}

void sinks_free(struct sinks *ss)
{
	for (int i = ss->n - 1; i >= 0; i--)
		if (ss->s[i].ops->free)
			ss->s[i].ops->free(ss->s[i].ctx);
	ss->n = 0;
}
