/* main.c - command line: parse options, wire the pipeline stages, run. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#include "asn.h"
#include "blockpage.h"
#include "capture.h"
#include "cert.h"
#include "certstats.h"
#include "classify.h"
#include "engine.h"
#include "engine_mt.h"
#include "fanout.h"
#include "intercept.h"
#include "out_clickhouse.h"
#include "out_event.h"
#include "out_pcap.h"
#include "out_report.h"
#include "out_stats.h"
#include "report.h"
#include "report_merge.h"
#include "run.h"
#include "run_workers.h"
#include "sink.h"
#include "summary.h"
#include "testlist.h"
#include "usage.h"
#include "util.h"
#include "workers.h"

#define MAX_INPUTS 1024
#define MAX_ICPT_FILES 64
#define MAX_BLOCKPAGE_FILES 64

struct options {
	const char *inputs[MAX_INPUTS];
	int n_inputs;
	char *input_paths[MAX_INPUTS];  /* the ones -r DIR made (freed at exit) */
	int n_input_paths;
	const char *events_path;
	bool events_clickhouse;    /* --events-format clickhouse */
	const char *sensor_name;   /* --sensor-name */
	char *bpf;
	int quiet;
	struct engine_cfg cfg;
	/* live and replay */
	struct live_opts live;
	const char *user;          /* -Z */
	unsigned live_workers;     /* -i with --threads: worker threads on fanout sockets, else 0 */
	const char *replay;        /* --replay FILE */
	double speed;              /* --speed: 1 real time, 0 as fast as possible */
	uint64_t stats_interval_us;
	const char *metrics_path;
	/* networks and reports */
	struct asn_cfg asn;
	struct report_cfg report;
	const char *report_json, *report_csv, *test_list;
	/* certificates */
	const char *ca_bundle;
	const char *icpt_files[MAX_ICPT_FILES];
	int n_icpt;
	/* evidence and the page */
	const char *evidence_path;     /* -w */
	enum pcapw_format pcap_format; /* --pcap-format */
	uint32_t pcap_mib;             /* --pcap-memory */
	const char *html_path;         /* --html */
	int argc;                      /* the command line, for the manifest */
	char **argv;
	/* DNS and HTTP */
	const char *bp_files[MAX_BLOCKPAGE_FILES];
	int n_bp;
};

/* ---- the option table ------------------------------------------------------------ */

/* How an option's argument is stored in struct options. */
enum arg_kind {
	ARG_NONE_INT,   /* no argument: the int member becomes 1 */
	ARG_NONE_BOOL,  /* no argument: the bool member becomes true */
	ARG_STR,        /* const char *, the argument as given */
	ARG_U32,        /* uint32_t in [min, max] */
	ARG_INT,        /* int in [min, max] */
	ARG_DUR,        /* uint64_t microseconds, at least min */
	ARG_FN,         /* a handler of its own, with an argument */
	ARG_FN0,        /* a handler of its own, without one */
};

/* A handler's answer: 0 go on, 2 usage error (said), 1 other error (said),
 * OPT_EXIT_OK: done, exit 0 (--help, --version). */
#define OPT_EXIT_OK (-1)

struct optdef {
	const char *name;           /* long name */
	int letter;                 /* short option, 0 for none */
	enum arg_kind kind;
	size_t off;                 /* member of struct options */
	uint64_t min, max;
	const char *bad;            /* message for a bad value; %s is the value */
	int (*fn)(struct options *o, const char *arg);
};

#define OFF(m) offsetof(struct options, m)

static int opt_read(struct options *o, const char *arg);
static int opt_vantage(struct options *o, const char *arg);
static int opt_speed(struct options *o, const char *arg);
static int opt_icpt(struct options *o, const char *arg);
static int opt_pcap_format(struct options *o, const char *arg);
static int opt_events_format(struct options *o, const char *arg);
static int opt_sensor_name(struct options *o, const char *arg);
static int opt_blockpages(struct options *o, const char *arg);
static int opt_no_promisc(struct options *o, const char *arg);
static int opt_threads(struct options *o, const char *arg);
static int opt_help(struct options *o, const char *arg);
static int opt_version(struct options *o, const char *arg);

static const struct optdef optdefs[] = {
	{ "read", 'r', ARG_FN, 0, 0, 0, NULL, opt_read },
	{ "events", 0, ARG_STR, OFF(events_path), 0, 0, NULL, NULL },
	{ "events-format", 0, ARG_FN, 0, 0, 0, NULL, opt_events_format },
	{ "sensor-name", 0, ARG_FN, 0, 0, 0, NULL, opt_sensor_name },
	{ "quiet", 'q', ARG_NONE_INT, OFF(quiet), 0, 0, NULL, NULL },
	{ "write", 'w', ARG_STR, OFF(evidence_path), 0, 0, NULL, NULL },
	{ "pcap-format", 0, ARG_FN, 0, 0, 0, NULL, opt_pcap_format },
	{ "pcap-flow-packets", 0, ARG_U32, OFF(cfg.evidence.flow_packets), 2, 65535,
	  "bad --pcap-flow-packets '%s': want 2..65535", NULL },
	{ "pcap-memory", 0, ARG_U32, OFF(pcap_mib), 1, 1u << 20,
	  "bad --pcap-memory '%s': want MiB, 1..1048576", NULL },
	{ "html", 0, ARG_STR, OFF(html_path), 0, 0, NULL, NULL },
	{ "threads", 0, ARG_FN, 0, 0, 0, NULL, opt_threads },
	{ "max-flows", 0, ARG_U32, OFF(cfg.max_flows), 1, 100000000,
	  "bad --max-flows '%s': want 1..100000000", NULL },
	{ "idle-timeout", 0, ARG_DUR, OFF(cfg.idle_us), 1, 0, "bad --idle-timeout '%s'", NULL },
	{ "close-linger", 0, ARG_DUR, OFF(cfg.linger_us), 0, 0, "bad --close-linger '%s'", NULL },
	{ "reasm-limit", 0, ARG_U32, OFF(cfg.reasm_limit), 1024, 16u << 20,
	  "bad --reasm-limit '%s': want 1024..16777216", NULL },
	{ "stall-timeout", 0, ARG_DUR, OFF(cfg.verdict.stall_us), 1, 0, "bad --stall-timeout '%s'", NULL },
	{ "vantage", 0, ARG_FN, 0, 0, 0, NULL, opt_vantage },
	{ "residual-window", 0, ARG_DUR, OFF(cfg.verdict.residual_us), 0, 0,
	  "bad --residual-window '%s'", NULL },
	{ "asn-db", 0, ARG_STR, OFF(asn.path), 0, 0, NULL, NULL },
	{ "no-asn-db", 0, ARG_NONE_BOOL, OFF(asn.disabled), 0, 0, NULL, NULL },
	{ "report-json", 0, ARG_STR, OFF(report_json), 0, 0, NULL, NULL },
	{ "report-csv", 0, ARG_STR, OFF(report_csv), 0, 0, NULL, NULL },
	{ "min-flows", 0, ARG_U32, OFF(report.min_flows), 1, 1000000,
	  "bad --min-flows '%s': want 1..1000000", NULL },
	{ "time-bucket", 0, ARG_DUR, OFF(report.bucket_us), 1000000, 0,
	  "bad --time-bucket '%s': want at least 1s", NULL },
	{ "test-list", 0, ARG_STR, OFF(test_list), 0, 0, NULL, NULL },
	{ "anonymize-clients", 0, ARG_NONE_BOOL, OFF(cfg.anonymize_clients), 0, 0, NULL, NULL },
	{ "ca-bundle", 0, ARG_STR, OFF(ca_bundle), 0, 0, NULL, NULL },
	{ "interception-cas", 0, ARG_FN, 0, 0, 0, NULL, opt_icpt },
	{ "blockpages", 0, ARG_FN, 0, 0, 0, NULL, opt_blockpages },
	{ "interface", 'i', ARG_STR, OFF(live.iface), 0, 0, NULL, NULL },
	{ "no-promiscuous-mode", 'p', ARG_FN0, 0, 0, 0, NULL, opt_no_promisc },
	{ "snapshot-length", 's', ARG_INT, OFF(live.snaplen), 0, 262144,
	  "bad -s '%s': want 0..262144", NULL },
	{ "buffer-size", 'B', ARG_INT, OFF(live.buffer_kib), 1, 4u << 20,
	  "bad -B '%s': want KiB, 1..4194304", NULL },
	{ "relinquish-privileges", 'Z', ARG_STR, OFF(user), 0, 0, NULL, NULL },
	{ "replay", 0, ARG_STR, OFF(replay), 0, 0, NULL, NULL },
	{ "speed", 0, ARG_FN, 0, 0, 0, NULL, opt_speed },
	{ "stats-interval", 0, ARG_DUR, OFF(stats_interval_us), 0, 0,
	  "bad --stats-interval '%s'", NULL },
	{ "metrics-file", 0, ARG_STR, OFF(metrics_path), 0, 0, NULL, NULL },
	{ "help", 'h', ARG_FN0, 0, 0, 0, NULL, opt_help },
	{ "version", 'V', ARG_FN0, 0, 0, 0, NULL, opt_version },
};
#define N_OPTDEFS (sizeof(optdefs) / sizeof(optdefs[0]))

static int die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "tamperscope: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	return 2;
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Store one option's value per its table entry. */
static int store(struct options *o, const struct optdef *d, const char *arg)
{
	char *m = (char *)o + d->off;
	uint64_t v;
	switch (d->kind) {
	case ARG_NONE_INT:
		*(int *)m = 1;
		return 0;
	case ARG_NONE_BOOL:
		*(bool *)m = true;
		return 0;
	case ARG_STR:
		*(const char **)m = arg;
		return 0;
	case ARG_U32:
	case ARG_INT:
		if (parse_u64(arg, d->min, d->max, &v) < 0)
			return die_usage(d->bad, arg);
		if (d->kind == ARG_U32)
			*(uint32_t *)m = (uint32_t)v;
		else
			*(int *)m = (int)v;
		return 0;
	case ARG_DUR:
		if (parse_duration_us(arg, &v) < 0 || v < d->min)
			return die_usage(d->bad, arg);
		*(uint64_t *)m = v;
		return 0;
	case ARG_FN:
	case ARG_FN0:
		return d->fn(o, arg);
	}
	return 2;
}

static int is_capture_name(const char *n)
{
	size_t l = strlen(n);
	return (l > 5 && strcmp(n + l - 5, ".pcap") == 0) ||
	       (l > 7 && strcmp(n + l - 7, ".pcapng") == 0) ||
	       (l > 4 && strcmp(n + l - 4, ".cap") == 0);
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* -r DIR: every capture file in it, in name order. */
static int add_dir_inputs(struct options *o, const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, name_cmp);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		if (is_capture_name(names[i]->d_name) && o->n_inputs < MAX_INPUTS) {
			size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
			char *path = malloc(len);
			if (path) {
				snprintf(path, len, "%s/%s", dir, names[i]->d_name);
				o->inputs[o->n_inputs++] = path;
				o->input_paths[o->n_input_paths++] = path;
			}
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

static int opt_read(struct options *o, const char *arg)
{
	struct stat sb;
	if (o->n_inputs >= MAX_INPUTS)
		return die_usage("too many -r files (at most %s)", "1024");
	if (strcmp(arg, "-") != 0 && stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		if (add_dir_inputs(o, arg) < 0) {
			fprintf(stderr, "tamperscope: %s: %s\n", arg, strerror(errno));
			return 1;
		}
		return 0;
	}
	o->inputs[o->n_inputs++] = arg;
	return 0;
}

static int opt_vantage(struct options *o, const char *arg)
{
	if (vantage_from_name(arg, &o->cfg.verdict.vantage) < 0)
		return die_usage("bad --vantage '%s': want auto, client, server or unknown", arg);
	return 0;
}

static int opt_speed(struct options *o, const char *arg)
{
	char *end;
	if (strcmp(arg, "max") == 0) {
		o->speed = 0;
		return 0;
	}
	errno = 0;
	o->speed = strtod(arg, &end);
	if (errno || end == arg || *end || !(o->speed > 0) || o->speed > 1e6)
		return die_usage("bad --speed '%s': want a positive number or max", arg);
	return 0;
}

static int opt_icpt(struct options *o, const char *arg)
{
	if (o->n_icpt >= MAX_ICPT_FILES)
		return die_usage("too many --interception-cas files (at most %s)", "64");
	o->icpt_files[o->n_icpt++] = arg;
	return 0;
}

static int opt_pcap_format(struct options *o, const char *arg)
{
	if (strcmp(arg, "pcapng") == 0)
		o->pcap_format = PCAPW_PCAPNG;
	else if (strcmp(arg, "pcap") == 0)
		o->pcap_format = PCAPW_PCAP;
	else
		return die_usage("bad --pcap-format '%s': want pcapng or pcap", arg);
	return 0;
}

static int opt_events_format(struct options *o, const char *arg)
{
	if (strcmp(arg, "eve") != 0 && strcmp(arg, "clickhouse") != 0)
		return die_usage("bad --events-format '%s': want eve or clickhouse", arg);
	o->events_clickhouse = strcmp(arg, "clickhouse") == 0;
	return 0;
}

static int opt_sensor_name(struct options *o, const char *arg)
{
	if (!out_clickhouse_sensor_ok(arg))
		return die_usage("bad --sensor-name '%s': want 1..255 printable characters", arg);
	o->sensor_name = arg;
	return 0;
}

static int opt_blockpages(struct options *o, const char *arg)
{
	if (o->n_bp >= MAX_BLOCKPAGE_FILES)
		return die_usage("too many --blockpages files (at most %s)", "64");
	o->bp_files[o->n_bp++] = arg;
	return 0;
}

static int opt_threads(struct options *o, const char *arg)
{
	char *end;
	unsigned long n;
	if (strcmp(arg, "auto") == 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		o->cfg.threads = c > 1 ? (uint32_t)(c < WORKERS_MAX ? c : WORKERS_MAX) : 1;
		return 0;
	}
	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || n < 1 || n > WORKERS_MAX)
		return die_usage("bad --threads '%s': want 1..64 or auto", arg);
	o->cfg.threads = (uint32_t)n;
	return 0;
}

static int opt_no_promisc(struct options *o, const char *arg)
{
	(void)arg;
	o->live.promisc = 0;
	return 0;
}

static int opt_help(struct options *o, const char *arg)
{
	(void)o;
	(void)arg;
	usage(stdout);
	return OPT_EXIT_OK;
}

static int opt_version(struct options *o, const char *arg)
{
	(void)o;
	(void)arg;
	printf("tamperscope %s\n", PACKAGE_VERSION);
	return OPT_EXIT_OK;
}

/* getopt_long's tables from optdefs: a long option's value is its index
 * plus 256, a short one's its letter. */
static void build_getopt(struct option *lo, char *so)
{
	size_t k = 0;
	so[k++] = '+';
	for (size_t i = 0; i < N_OPTDEFS; i++) {
		const struct optdef *d = &optdefs[i];
		bool arg = d->kind != ARG_NONE_INT && d->kind != ARG_NONE_BOOL && d->kind != ARG_FN0;
		lo[i] = (struct option){ d->name, arg ? required_argument : no_argument, NULL,
					 d->letter ? d->letter : (int)(256 + i) };
		if (d->letter) {
			so[k++] = (char)d->letter;
			if (arg)
				so[k++] = ':';
		}
	}
	lo[N_OPTDEFS] = (struct option){ NULL, 0, NULL, 0 };
	so[k] = '\0';
}

static const struct optdef *optdef_of(int c)
{
	if (c >= 256 && (size_t)(c - 256) < N_OPTDEFS)
		return &optdefs[c - 256];
	for (size_t i = 0; i < N_OPTDEFS; i++)
		if (optdefs[i].letter == c)
			return &optdefs[i];
	return NULL;
}

/* Remaining words form the BPF expression, as with tcpdump. */
static int join_bpf(struct options *o, int argc, char **argv)
{
	size_t need = 1;
	if (optind >= argc)
		return 0;
	for (int i = optind; i < argc; i++)
		need += strlen(argv[i]) + 1;
	o->bpf = calloc(1, need);
	if (!o->bpf)
		return 1;
	for (int i = optind; i < argc; i++) {
		if (i > optind)
			strcat(o->bpf, " ");
		strcat(o->bpf, argv[i]);
	}
	return 0;
}

static void defaults(struct options *o)
{
	engine_cfg_default(&o->cfg);
	report_cfg_default(&o->report);
	o->live.promisc = 1;
	o->speed = 1.0;
	o->stats_interval_us = 60ULL * 1000000;
	o->pcap_mib = 64;
}

/* 0, an exit status, or OPT_EXIT_OK. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static struct option lo[N_OPTDEFS + 1];
	static char so[2 * N_OPTDEFS + 2];
	int c, rc;
	defaults(o);
	build_getopt(lo, so);
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		const struct optdef *d = optdef_of(c);
		if (!d)
			return 2; /* getopt said why */
		if ((rc = store(o, d, optarg)) != 0)
			return rc;
	}
	if (join_bpf(o, argc, argv))
		return 1;
	int modes = (o->n_inputs > 0) + (o->live.iface != NULL) + (o->replay != NULL);
	if (modes == 0)
		return die_usage("%s", "no input: give -r FILE, -i IFACE or --replay FILE");
	if (modes > 1)
		return die_usage("%s", "-r, -i and --replay exclude each other");
	if (o->events_clickhouse && !o->events_path)
		return die_usage("%s", "--events-format clickhouse needs --events FILE");
	/* -w keeps each flow's packets while its handshake is open, which only
	 * the thread that reads them can follow in capture order. */
	if (o->cfg.threads > 1 && (o->evidence_path || o->replay)) {
		fprintf(stderr, "tamperscope: --threads: %s analysed in one thread\n",
			o->evidence_path ? "with -w, flows are" : "a replay is");
		o->cfg.threads = 1;
	}
	/* Live, the workers read sockets of their own (run_workers.c): the
	 * engines they run each have one thread. */
	if (o->cfg.threads > 1 && o->live.iface) {
		if (fanout_supported(o->live.iface))
			o->live_workers = o->cfg.threads;
		else
			fprintf(stderr, "tamperscope: --threads: %s is not an Ethernet interface; "
				"read in one thread\n", o->live.iface);
		o->cfg.threads = 1;
	}
	return 0;
}

/* ---- wiring ---------------------------------------------------------------------- */

/* Everything main owns; one teardown frees it, whatever was set up. */
struct app {
	struct testlist *tl;
	struct asn_db *asn;
	char asn_warn[512];
	struct intercept_db *icpt;
	struct cert_ctx *certs;
	struct blockpages *bp;
	struct out_event *events;      /* until handed to its sink */
	struct sinks sinks;
	struct engine *e;
	struct engine_deps deps;
	struct live_workers *lw;       /* -i with --threads */
	struct capture cap;
	bool cap_open;
	bool live;                     /* -i or --replay */
};

static void teardown(struct app *a)
{
	sinks_free(&a->sinks);
	live_workers_free(a->lw); /* the peers of a->e */
	engine_free(a->e);
	if (a->cap_open)
		capture_close(&a->cap);
	cert_ctx_free(a->certs);
	intercept_db_free(a->icpt);
	blockpages_free(a->bp);
	asn_close(a->asn);
	testlist_free(a->tl);
}

static void on_bad_testlist_line(void *arg, unsigned long line, const char *why)
{
	fprintf(stderr, "tamperscope: %s:%lu: %s (line skipped)\n", (const char *)arg, line, why);
}

static int load_testlist(struct options *o, struct app *a)
{
	char err[512];
	if (!o->test_list)
		return 0;
	a->tl = testlist_new(&o->cfg.seed);
	if (!a->tl || testlist_load_file(a->tl, o->test_list, on_bad_testlist_line,
					 (void *)o->test_list, err, sizeof(err)) < 0) {
		fprintf(stderr, "tamperscope: %s\n", a->tl ? err : "out of memory");
		return 1;
	}
	o->report.testlist = a->tl;
	return 0;
}

static int open_asn(struct options *o, struct app *a)
{
	char err[512];
	asn_cfg_from_env(&o->asn);
	o->asn.seed = &o->cfg.seed;
	a->asn = asn_open(&o->asn, err, sizeof(err), a->asn_warn, sizeof(a->asn_warn));
	if (!a->asn) {
		fprintf(stderr, "tamperscope: %s\n", err);
		return 1;
	}
	/* Live, a missing database matters now; offline the warning goes with
	 * the closing counters, so a bad input still gets one line alone. */
	if (a->asn_warn[0] && a->live)
		fprintf(stderr, "tamperscope: warning: %s\n", a->asn_warn);
	return 0;
}

/* Known interception CAs (the package's list, then --interception-cas
 * files) and the trust store.  2 after a one-line error. */
static int setup_certs(struct options *o, struct app *a)
{
	char err[512], path[PATH_MAX];
	if (!(a->icpt = intercept_db_new())) {
		fprintf(stderr, "tamperscope: out of memory\n");
		return 2;
	}
	if (data_file_path("interception-cas.tsv", path, sizeof(path)) == 0) {
		if (intercept_db_load(a->icpt, path, err, sizeof(err)) < 0) {
			fprintf(stderr, "tamperscope: %s\n", err);
			return 2;
		}
	} else {
		fprintf(stderr, "tamperscope: warning: the interception-CA list interception-cas.tsv "
			"was not found; only --interception-cas files are used\n");
	}
	for (int i = 0; i < o->n_icpt; i++) {
		if (intercept_db_load(a->icpt, o->icpt_files[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "tamperscope: %s\n", err);
			return 2;
		}
	}
	if (a->icpt->refused)
		fprintf(stderr, "tamperscope: warning: %llu interception-CA entries over the cap were ignored\n",
			(unsigned long long)a->icpt->refused);
	char roots[PATH_MAX], roots_pem[PATH_MAX];
	struct cert_cfg cc = { .ca_bundle = o->ca_bundle, .icpt = a->icpt, .seed = &o->cfg.seed };
	/* The anchors of earlier times: without the list, chains are judged
	 * against today's store alone (old captures then look untrusted). */
	if (data_file_path("removed-roots.tsv", roots, sizeof(roots)) == 0)
		cc.removed_roots = roots;
	if (data_file_path("removed-roots.pem", roots_pem, sizeof(roots_pem)) == 0)
		cc.removed_pem = roots_pem;
	a->certs = cert_ctx_new(&cc, err, sizeof(err));
	if (!a->certs && o->ca_bundle) {
		fprintf(stderr, "tamperscope: %s\n", err);
		return 2;
	}
	/* No system bundle: say so once and report trust as unknown. */
	if (!a->certs)
		fprintf(stderr, "tamperscope: warning: %s; certificate chains are not validated\n", err);
	return 0;
}

static bool is_stdout(const char *p) { return p && strcmp(p, "-") == 0; }

/* What the manifest digests besides the evidence: what went in, and what
 * the verdicts were judged against. */
static void fill_manifest(struct options *o, struct app *a, struct manifest *m)
{
	char path[PATH_MAX];
	m->argc = o->argc;
	m->argv = o->argv;
	m->live = o->live.iface;
	for (int i = 0; i < o->n_inputs; i++)
		manifest_add(m, "input capture", o->inputs[i]);
	manifest_add(m, "input capture (replayed)", o->replay);
	if (a->certs) {
		const char *ts = cert_ctx_trust_source(a->certs);
		struct stat sb;
		/* The hashed directory holds exactly the bundle's anchors. */
		manifest_add(m, "trust store", stat(ts, &sb) == 0 && S_ISDIR(sb.st_mode)
						       ? CERT_DEFAULT_BUNDLE : ts);
	}
	manifest_add(m, "ASN database", asn_path(a->asn));
	if (data_file_path("interception-cas.tsv", path, sizeof(path)) == 0)
		manifest_add(m, "interception-CA list (built in)", path);
	for (int i = 0; i < o->n_icpt; i++)
		manifest_add(m, "interception-CA list", o->icpt_files[i]);
}

/* -w: the evidence file and its manifest are created now; the engine
 * keeps each flow's handshake packets from the first packet on. */
static int setup_evidence(struct options *o, struct app *a)
{
	char err[512];
	struct out_pcap_opts po = { o->evidence_path, o->pcap_format, o->cfg.anonymize_clients,
				    (uint64_t)o->pcap_mib << 20 };
	struct out_pcap *op = out_pcap_open(&po, err, sizeof(err));
	if (!op) {
		fprintf(stderr, "tamperscope: cannot write evidence: %s\n", err);
		return 1;
	}
	fill_manifest(o, a, out_pcap_manifest(op));
	o->cfg.keep_evidence = true;
	o->cfg.evidence.max_bytes = (uint64_t)o->pcap_mib << 20;
	return sinks_add(&a->sinks, out_pcap_sink(op)) < 0 ? -1 : 0;
}

/* The outputs, in the order they write: events, statistics (live),
 * report, summary.  Files are opened now, before any packet is read. */
static int setup_sinks(struct options *o, struct app *a)
{
	char err[512];
	int rc;
	bool stdout_taken = is_stdout(o->events_path) || is_stdout(o->report_json) ||
			    is_stdout(o->report_csv);
	FILE *text = o->quiet || stdout_taken ? NULL : stdout;
	struct out_event *ev = NULL;
	if (o->events_clickhouse) { /* rows only: no stats events in the table's file */
		struct out_clickhouse_cfg cc = { o->events_path, o->sensor_name, o->report.testlist };
		struct sink s = out_clickhouse_sink(&cc, err, sizeof(err));
		if (sinks_add(&a->sinks, s) < 0) {
			fprintf(stderr, "tamperscope: cannot write events: %s\n", s.ctx ? "no room" : err);
			return 1;
		}
	} else if (o->events_path) {
		if (!(ev = out_event_open(o->events_path, err, sizeof(err)))) {
			fprintf(stderr, "tamperscope: cannot write events: %s\n", err);
			return 1;
		}
		if (sinks_add(&a->sinks, out_event_sink(ev)) < 0)
			goto oom;
	}
	if (a->live && sinks_add(&a->sinks, out_stats_sink(o->metrics_path, ev)) < 0)
		goto oom;
	/* The page is written at the end; a path that cannot be written is
	 * said now, before any packet is read. */
	FILE *probe = o->html_path ? fopen(o->html_path, "w") : NULL;
	if (o->html_path && (!probe || fclose(probe) != 0)) {
		fprintf(stderr, "tamperscope: cannot write --html: %s: %s\n", o->html_path, strerror(errno));
		return 1;
	}
	struct out_report_opts ro = { o->report_json, o->report_csv, text, a->certs != NULL,
				      o->html_path };
	o->report.seed = &o->cfg.seed;
	if (sinks_add(&a->sinks, out_report_sink(&o->report, &ro)) < 0)
		goto oom;
	if (text && sinks_add(&a->sinks, summary_sink(text, &o->cfg.seed)) < 0)
		goto oom;
	if (o->evidence_path && (rc = setup_evidence(o, a)) != 0)
		return rc < 0 ? (fprintf(stderr, "tamperscope: out of memory\n"), 1) : rc;
	return 0;
oom:
	fprintf(stderr, "tamperscope: out of memory\n");
	return 1;
}

/* -Z: as tcpdump, after the interface and the output files are open. */
static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		fprintf(stderr, "tamperscope: -Z: no such user '%s'\n", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		fprintf(stderr, "tamperscope: -Z %s: %s\n", user, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) { /* must not be able to return */
		fprintf(stderr, "tamperscope: -Z %s: privileges could be regained\n", user);
		return -1;
	}
	return 0;
}

/* Known blockpages: the package's list, then --blockpages files. */
static int load_blockpages(struct options *o, struct app *a)
{
	char err[512], path[PATH_MAX];
	if (!(a->bp = blockpages_new(&o->cfg.seed))) {
		fprintf(stderr, "tamperscope: out of memory\n");
		return 2;
	}
	bool shipped = data_file_path("blockpages.tsv", path, sizeof(path)) == 0;
	for (int i = shipped ? -1 : 0; i < o->n_bp; i++) {
		if (blockpages_load(a->bp, i < 0 ? path : o->bp_files[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "tamperscope: %s\n", err);
			return 2;
		}
	}
	if (blockpages_refused(a->bp))
		fprintf(stderr, "tamperscope: warning: %llu blockpage entries over the cap were ignored\n",
			(unsigned long long)blockpages_refused(a->bp));
	return 0;
}

static int setup(struct options *o, struct app *a)
{
	int rc;
	a->live = o->live.iface || o->replay;
	if ((rc = load_testlist(o, a)) || (rc = open_asn(o, a)) || (rc = setup_certs(o, a)) ||
	    (rc = load_blockpages(o, a)) || (rc = setup_sinks(o, a)))
		return rc;
	a->deps = (struct engine_deps){ &a->sinks, a->asn, a->certs, a->bp, NULL, NULL };
	if (o->live_workers) {
		if (!(a->lw = live_workers_new(o->live_workers))) {
			fprintf(stderr, "tamperscope: out of memory\n");
			return 1;
		}
		a->deps.share = live_workers_share(a->lw);
	}
	if (!(a->e = engine_new(&o->cfg, &a->deps)) ||
	    (o->cfg.threads > 1 && engine_mt_start(a->e, &a->deps) < 0)) {
		fprintf(stderr, "tamperscope: cannot initialise (out of memory, nDPI failed or no threads)\n");
		return 1;
	}
	return 0;
}

/* Live capture or paced replay: the source is opened here, so that -Z can
 * drop privileges after it. */
static int run_source(struct options *o, struct app *a, struct run *r)
{
	char err[512];
	int rc = a->lw ? live_workers_open(a->lw, &o->live, o->bpf, err, sizeof(err))
	       : o->live.iface ? capture_open_live(&a->cap, &o->live, o->bpf, err, sizeof(err))
			       : capture_open_file(&a->cap, o->replay, o->bpf, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "tamperscope: %s\n", err);
		return 1;
	}
	a->cap_open = !a->lw;
	if (o->user && drop_privileges(o->user) < 0)
		return 1;
	rc = a->lw ? run_live_workers(r, a->lw, &o->cfg, &a->deps, err, sizeof(err))
	   : o->live.iface ? run_live(r, &a->cap, err, sizeof(err))
			   : run_replay(r, &a->cap, err, sizeof(err));
	if (rc)
		fprintf(stderr, "tamperscope: %s\n", err);
	return rc ? 1 : 0;
}

/* The run, then the conclusions to every output and the closing lines. */
static int analyse(struct options *o, struct app *a)
{
	struct run r;
	struct run_cfg rc = { o->stats_interval_us, o->speed, isatty(STDERR_FILENO) != 0 };
	run_init(&r, a->e, &a->sinks, &rc, run_install_signals());
	int status = a->live ? run_source(o, a, &r)
			     : run_files(&r, (const char *const *)o->inputs, o->n_inputs, o->bpf);
	struct engine_counters c;
	struct run_end end = { 0 };
	run_counters(&r, &c);
	end.c = &c;
	end.stopped = r.sig->stop != 0;
	engine_conclude(a->e, &end);
	/* When no input could be read, the one-line error says it all. */
	if (status != 0 && c.frames == 0)
		return status;
	if (sinks_finish(&a->sinks, &end) < 0)
		status = 1;
	if (a->asn_warn[0] && !a->live)
		fprintf(stderr, "tamperscope: warning: %s\n", a->asn_warn);
	out_stats_print_end(stderr, &c, a->certs ? cert_ctx_stats(a->certs) : NULL,
			    end.certstats ? certstats_get_stats(end.certstats) : NULL);
	struct thread_time tt[WORKERS_MAX + 2];
	out_stats_print_threads(stderr, tt, engine_thread_times(a->e, tt, WORKERS_MAX + 2));
	return status;
}

int main(int argc, char **argv)
{
	static struct options o;
	static struct app a;
	if (argc > 1 && strcmp(argv[1], "merge") == 0)
		return report_merge_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "asn") == 0)
		return asn_main(argc - 1, argv + 1);
	o.argc = argc;
	o.argv = argv;
	int status = parse_options(argc, argv, &o);
	if (status == 0)
		status = setup(&o, &a);
	/* Every classifier is freed at the end of the run from here on: the
	 * workers' when their flows are finished (engine_finish), the engine's
	 * in teardown. */
	classify_exiting();
	if (status == 0)
		status = analyse(&o, &a);
	teardown(&a);
	for (int i = 0; i < o.n_input_paths; i++)
		free(o.input_paths[i]);
	free(o.bpf);
	return status == OPT_EXIT_OK ? 0 : status;
}
