/* main.c - command line: parse options, wire the pipeline stages, run. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#include "asn.h"
#include "capture.h"
#include "cert.h"
#include "certstats.h"
#include "intercept.h"
#include "out_cert.h"
#include "engine.h"
#include "live.h"
#include "out_event.h"
#include "out_report.h"
#include "out_stats.h"
#include "report.h"
#include "report_merge.h"
#include "testlist.h"
#include "summary.h"
#include "util.h"

#define MAX_INPUTS 1024

struct options {
	const char *inputs[MAX_INPUTS];
	int n_inputs;
	const char *events_path;
	char *bpf;
	int quiet;
	struct engine_cfg cfg;
	/* live and replay */
	struct live_opts live;
	const char *user;          /* -Z */
	const char *replay;        /* --replay FILE */
	double speed;              /* --speed: 1 real time, 0 as fast as possible */
	uint64_t stats_interval_us;
	const char *metrics_path;
	/* networks and reports */
	struct asn_cfg asn;
	struct report_cfg report;
	const char *report_json, *report_csv, *test_list;
	int anonymize;
	/* certificates */
	const char *ca_bundle;
	const char *icpt_files[64];
	int n_icpt;
};

/* The one piece of state signal handlers may touch. */
static struct live_signals sigs;

static void on_stop(int sig)
{
	(void)sig;
	sigs.stop = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	sigs.reopen = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	sigs.report = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tamperscope -r FILE [-r FILE ...] [options] [BPF expression]\n"
		"Passive detector of network interference in TLS connections.\n"
		"\n"
		"       tamperscope -i IFACE [live options] [options] [BPF expression]\n"
		"       tamperscope --replay FILE [--speed X|max] [options] [BPF expression]\n"
		"Input:\n"
		"  -r, --read FILE          read a pcap/pcapng capture (\"-\" = stdin); repeatable,\n"
		"                           files are read in the order given; a directory\n"
		"                           stands for its *.pcap, *.pcapng files in name order\n"
		"  -i, --interface IFACE    capture live on IFACE (\"any\" for all)\n"
		"      --replay FILE        feed FILE through the live path at its recorded pace\n"
		"      --speed X            replay speed: 1 real time (default), 10 ten times\n"
		"                           faster, max as fast as possible\n"
		"Live capture:\n"
		"  -p, --no-promiscuous-mode  do not put the interface in promiscuous mode\n"
		"  -s, --snapshot-length N  bytes captured per packet (262144)\n"
		"  -B, --buffer-size KIB    kernel capture buffer in KiB\n"
		"  -Z, --relinquish-privileges USER  drop to USER after opening the\n"
		"                           interface and output files\n"
		"      --stats-interval DUR stats event and metrics every DUR (60s; 0 = never)\n"
		"      --metrics-file FILE  Prometheus textfile, rewritten atomically\n"
		"Output:\n"
		"      --events FILE        one JSON event per flow (\"-\" = stdout)\n"
		"  -q, --quiet              no human summary on stdout\n"
		"Networks and reports:\n"
		"      --asn-db FILE        MaxMind DB with GeoLite2-ASN fields (default: search,\n"
		"                           then the embedded database)\n"
		"      --no-asn-db          no ASN lookups\n"
		"      --report-json FILE   per network / domain report as JSON (\"-\" = stdout)\n"
		"      --report-csv FILE    the same as CSV\n"
		"      --min-flows N        flows needed before a name is called blocked (3)\n"
		"      --time-bucket DUR    timeline bucket of the report (1h)\n"
		"      --test-list FILE     Citizen Lab test list CSV: categories per domain\n"
		"      --anonymize-clients  cut client addresses to /24 (IPv6 /48) in all output\n"
		"Certificates:\n"
		"      --ca-bundle FILE     trust anchors (PEM) replacing the system bundle\n"
		"                           /etc/ssl/certs/ca-certificates.crt\n"
		"      --interception-cas FILE  more known interception CAs (TSV; repeatable)\n"
		"Subcommands:\n"
		"  tamperscope merge A.json B.json ... [--report-json F] [--min-flows N]\n"
		"  tamperscope asn [--asn-db FILE] ADDRESS ...\n"
		"Analysis:\n"
		"      --stall-timeout DUR  silence after a ClientHello that makes a stall (3s)\n"
		"      --vantage WHERE      where the capture sits: client, server or unknown\n"
		"                           (unknown); decides which drop directions are provable\n"
		"      --residual-window DUR  mark failures this soon after a block of the same\n"
		"                           client, server and port as residual (180s)\n"
		"Resources:\n"
		"      --max-flows N        flow table cap; the longest-idle flow is evicted (1000000)\n"
		"      --idle-timeout DUR   end a flow after this much silence (120s)\n"
		"      --close-linger DUR   keep a closed flow this long for late packets (5s)\n"
		"      --reasm-limit BYTES  handshake bytes reassembled per direction (65536)\n"
		"Other:\n"
		"  -h, --help               this help\n"
		"  -V, --version            version\n"
		"\n"
		"DUR is a number with an optional unit: us, ms, s (default), m, h.\n"
		"See tamperscope(1) for verdicts, events and evidence fields.\n");
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max || s[0] == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
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
				o->inputs[o->n_inputs++] = path; /* lives until exit */
			}
		}
		free(names[i]);
	}
	free(names);
	return 0;
}

static int die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "tamperscope: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see --help)\n");
	return 2;
}

enum {
	OPT_EVENTS = 256,
	OPT_MAX_FLOWS,
	OPT_IDLE,
	OPT_LINGER,
	OPT_REASM,
	OPT_STALL,
	OPT_VANTAGE,
	OPT_RESIDUAL,
	OPT_ASN_DB,
	OPT_NO_ASN_DB,
	OPT_REPORT_JSON,
	OPT_REPORT_CSV,
	OPT_MIN_FLOWS,
	OPT_TIME_BUCKET,
	OPT_TEST_LIST,
	OPT_ANONYMIZE,
	OPT_CA_BUNDLE,
	OPT_ICPT,
	OPT_REPLAY,
	OPT_SPEED,
	OPT_STATS_INTERVAL,
	OPT_METRICS,
};

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "events", required_argument, NULL, OPT_EVENTS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "close-linger", required_argument, NULL, OPT_LINGER },
		{ "reasm-limit", required_argument, NULL, OPT_REASM },
		{ "stall-timeout", required_argument, NULL, OPT_STALL },
		{ "vantage", required_argument, NULL, OPT_VANTAGE },
		{ "residual-window", required_argument, NULL, OPT_RESIDUAL },
		{ "asn-db", required_argument, NULL, OPT_ASN_DB },
		{ "no-asn-db", no_argument, NULL, OPT_NO_ASN_DB },
		{ "report-json", required_argument, NULL, OPT_REPORT_JSON },
		{ "report-csv", required_argument, NULL, OPT_REPORT_CSV },
		{ "min-flows", required_argument, NULL, OPT_MIN_FLOWS },
		{ "time-bucket", required_argument, NULL, OPT_TIME_BUCKET },
		{ "test-list", required_argument, NULL, OPT_TEST_LIST },
		{ "anonymize-clients", no_argument, NULL, OPT_ANONYMIZE },
		{ "ca-bundle", required_argument, NULL, OPT_CA_BUNDLE },
		{ "interception-cas", required_argument, NULL, OPT_ICPT },
		{ "interface", required_argument, NULL, 'i' },
		{ "no-promiscuous-mode", no_argument, NULL, 'p' },
		{ "snapshot-length", required_argument, NULL, 's' },
		{ "buffer-size", required_argument, NULL, 'B' },
		{ "relinquish-privileges", required_argument, NULL, 'Z' },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "speed", required_argument, NULL, OPT_SPEED },
		{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
		{ "metrics-file", required_argument, NULL, OPT_METRICS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	engine_cfg_default(&o->cfg);
	report_cfg_default(&o->report);
	o->live.promisc = 1;
	o->speed = 1.0;
	o->stats_interval_us = 60ULL * 1000000;
	uint32_t u;
	while ((c = getopt_long(argc, argv, "+r:qhVi:ps:B:Z:", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (o->n_inputs >= MAX_INPUTS)
				return die_usage("too many -r files (at most %s)", "1024");
			struct stat sb;
			if (strcmp(optarg, "-") != 0 && stat(optarg, &sb) == 0 &&
			    S_ISDIR(sb.st_mode)) {
				if (add_dir_inputs(o, optarg) < 0) {
					fprintf(stderr, "tamperscope: %s: %s\n", optarg, strerror(errno));
					return 1;
				}
				break;
			}
			o->inputs[o->n_inputs++] = optarg;
			break;
		case OPT_EVENTS:
			o->events_path = optarg;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case OPT_MAX_FLOWS:
			if (parse_u32(optarg, 1, 100000000, &o->cfg.max_flows) < 0)
				return die_usage("bad --max-flows '%s': want 1..100000000", optarg);
			break;
		case OPT_IDLE:
			if (parse_duration_us(optarg, &o->cfg.idle_us) < 0 || o->cfg.idle_us == 0)
				return die_usage("bad --idle-timeout '%s'", optarg);
			break;
		case OPT_LINGER:
			if (parse_duration_us(optarg, &o->cfg.linger_us) < 0)
				return die_usage("bad --close-linger '%s'", optarg);
			break;
		case OPT_REASM:
			if (parse_u32(optarg, 1024, 16u << 20, &o->cfg.reasm_limit) < 0)
				return die_usage("bad --reasm-limit '%s': want 1024..16777216", optarg);
			break;
		case OPT_STALL:
			if (parse_duration_us(optarg, &o->cfg.verdict.stall_us) < 0 ||
			    o->cfg.verdict.stall_us == 0)
				return die_usage("bad --stall-timeout '%s'", optarg);
			break;
		case OPT_VANTAGE:
			if (verdict_vantage_from_name(optarg, &o->cfg.verdict.vantage) < 0)
				return die_usage("bad --vantage '%s': want client, server or unknown",
						 optarg);
			break;
		case OPT_RESIDUAL:
			if (parse_duration_us(optarg, &o->cfg.verdict.residual_us) < 0)
				return die_usage("bad --residual-window '%s'", optarg);
			break;
		case OPT_ASN_DB:
			o->asn.path = optarg;
			break;
		case OPT_NO_ASN_DB:
			o->asn.disabled = true;
			break;
		case OPT_REPORT_JSON:
			o->report_json = optarg;
			break;
		case OPT_REPORT_CSV:
			o->report_csv = optarg;
			break;
		case OPT_MIN_FLOWS:
			if (parse_u32(optarg, 1, 1000000, &o->report.min_flows) < 0)
				return die_usage("bad --min-flows '%s': want 1..1000000", optarg);
			break;
		case OPT_TIME_BUCKET:
			if (parse_duration_us(optarg, &o->report.bucket_us) < 0 ||
			    o->report.bucket_us < 1000000)
				return die_usage("bad --time-bucket '%s': want at least 1s", optarg);
			break;
		case OPT_TEST_LIST:
			o->test_list = optarg;
			break;
		case OPT_ANONYMIZE:
			o->anonymize = 1;
			break;
		case OPT_CA_BUNDLE:
			o->ca_bundle = optarg;
			break;
		case OPT_ICPT:
			if (o->n_icpt >= 64)
				return die_usage("too many --interception-cas files (at most %s)", "64");
			o->icpt_files[o->n_icpt++] = optarg;
			break;
		case 'i':
			o->live.iface = optarg;
			break;
		case 'p':
			o->live.promisc = 0;
			break;
		case 's':
			if (parse_u32(optarg, 0, 262144, &u) < 0)
				return die_usage("bad -s '%s': want 0..262144", optarg);
			o->live.snaplen = (int)u;
			break;
		case 'B':
			if (parse_u32(optarg, 1, 4u << 20, &u) < 0)
				return die_usage("bad -B '%s': want KiB, 1..4194304", optarg);
			o->live.buffer_kib = (int)u;
			break;
		case 'Z':
			o->user = optarg;
			break;
		case OPT_REPLAY:
			o->replay = optarg;
			break;
		case OPT_SPEED: {
			char *end;
			if (strcmp(optarg, "max") == 0) {
				o->speed = 0;
				break;
			}
			errno = 0;
			o->speed = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o->speed > 0) || o->speed > 1e6)
				return die_usage("bad --speed '%s': want a positive number or max", optarg);
			break;
		}
		case OPT_STATS_INTERVAL:
			if (parse_duration_us(optarg, &o->stats_interval_us) < 0)
				return die_usage("bad --stats-interval '%s'", optarg);
			break;
		case OPT_METRICS:
			o->metrics_path = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("tamperscope %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			return 2;
		}
	}
	/* Remaining words form the BPF expression, as with tcpdump. */
	size_t need = 1;
	for (int i = optind; i < argc; i++)
		need += strlen(argv[i]) + 1;
	if (optind < argc) {
		o->bpf = calloc(1, need);
		if (!o->bpf)
			return 1;
		for (int i = optind; i < argc; i++) {
			if (i > optind)
				strcat(o->bpf, " ");
			strcat(o->bpf, argv[i]);
		}
	}
	int modes = (o->n_inputs > 0) + (o->live.iface != NULL) + (o->replay != NULL);
	if (modes == 0)
		return die_usage("%s", "no input: give -r FILE, -i IFACE or --replay FILE");
	if (modes > 1)
		return die_usage("%s", "-r, -i and --replay exclude each other");
	return 0;
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

struct run {
	struct engine *e;
	struct out_stats *stats;
	int quiet;
	struct options *o;
};

static void run_reopen(void *arg)
{
	struct run *r = arg;
	char err[512];
	if (r->e->events && out_event_reopen(r->e->events, err, sizeof(err)) < 0)
		fprintf(stderr, "tamperscope: reopening events: %s\n", err);
}

static int write_reports(struct options *o, struct engine *e, bool to_stdout);

static void run_report(void *arg)
{
	struct run *r = arg;
	if (r->e->events)
		out_event_flush(r->e->events);
	write_reports(r->o, r->e, !r->quiet);
	fflush(stdout);
}

static void run_stats(void *arg, uint64_t now_us, const struct capture_kstats *ks)
{
	struct run *r = arg;
	if (out_stats_emit(r->stats, r->e, now_us, ks, r->e->events) < 0)
		fprintf(stderr, "tamperscope: cannot write the metrics file: %s\n", strerror(errno));
	if (r->e->events)
		out_event_flush(r->e->events);
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
}

/* Live capture or paced replay. */
static int run_live(struct options *o, struct engine *e)
{
	char err[512];
	struct capture cap;
	int rc;
	if (o->live.iface)
		rc = capture_open_live(&cap, &o->live, o->bpf, err, sizeof(err));
	else
		rc = capture_open_file(&cap, o->replay, o->bpf, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "tamperscope: %s\n", err);
		return 1;
	}
	struct run r = { e, out_stats_new(o->metrics_path), o->quiet, o };
	if (!r.stats) {
		fprintf(stderr, "tamperscope: out of memory\n");
		capture_close(&cap);
		return 1;
	}
	e->stats = r.stats;
	if (o->user && drop_privileges(o->user) < 0) {
		capture_close(&cap);
		return 1;
	}
	struct live_cfg lc = {
		.stats_interval_us = o->stats_interval_us,
		.speed = o->speed,
		.progress = isatty(STDERR_FILENO),
		.on_reopen = run_reopen,
		.on_report = run_report,
		.on_stats = run_stats,
		.arg = &r,
	};
	int status = 0;
	if (o->live.iface)
		rc = live_run(e, &cap, &lc, &sigs, err, sizeof(err));
	else
		rc = replay_run(e, &cap, &lc, &sigs, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "tamperscope: %s\n", err);
		status = 1;
	}
	struct capture_kstats ks;
	if (capture_kstats(&cap, &ks) < 0)
		memset(&ks, 0, sizeof(ks));
	engine_finish(e, o->live.iface || sigs.stop ? FLOW_END_SHUTDOWN : FLOW_END_EOF);
	run_stats(&r, e->now_us, &ks);
	if (o->live.iface)
		fprintf(stderr, "tamperscope: kernel: %llu received, %llu dropped, %llu dropped by the interface\n",
			ks.received, ks.dropped, ks.if_dropped);
	capture_close(&cap);
	e->stats = NULL;
	out_stats_free(r.stats);
	return status;
}

/* Capture files, as fast as they can be read. */
static int run_offline(struct options *o, struct engine *e)
{
	char err[512];
	int status = 0;
	struct progress_state ps = { 0, 0 };
	bool tty = isatty(STDERR_FILENO);
	for (int i = 0; i < o->n_inputs && !sigs.stop; i++) {
		struct capture cap;
		if (capture_open_file(&cap, o->inputs[i], o->bpf, err, sizeof(err)) < 0) {
			fprintf(stderr, "tamperscope: %s\n", err);
			status = 1;
			continue;
		}
		engine_begin_input(e);
		int r = capture_run(&cap, e, &sigs.stop, tty ? &ps : NULL, err, sizeof(err));
		if (r == 1) {
			fprintf(stderr, "tamperscope: %s\n", err);
			status = 1;
		}
		capture_close(&cap);
	}
	progress_done(&ps);
	engine_finish(e, sigs.stop ? FLOW_END_SHUTDOWN : FLOW_END_EOF);
	return status;
}

static void on_bad_testlist_line(void *arg, unsigned long line, const char *why)
{
	fprintf(stderr, "tamperscope: %s:%lu: %s (line skipped)\n", (const char *)arg, line, why);
}

/* The report (if any) and the summary: text on stdout unless it is taken,
 * JSON/CSV where asked.  Called at the end and on SIGUSR1. */
static int write_reports(struct options *o, struct engine *e, bool to_stdout)
{
	char err[512];
	int rc = 0;
	if (e->report && report_finalize(e->report) < 0)
		fprintf(stderr, "tamperscope: report: out of memory while concluding\n");
	if (to_stdout) {
		if (e->report)
			out_report_text(e->report, stdout);
		summary_print(e->summary, stdout);
	}
	if (e->report && o->report_json &&
	    out_report_write_json(e->report, o->report_json, err, sizeof(err)) < 0) {
		fprintf(stderr, "tamperscope: %s\n", err);
		rc = 1;
	}
	if (e->report && o->report_csv &&
	    out_report_write_csv(e->report, o->report_csv, err, sizeof(err)) < 0) {
		fprintf(stderr, "tamperscope: %s\n", err);
		rc = 1;
	}
	return rc;
}

static void report_cert_json(void *arg, struct json *j)
{
	const struct engine *e = arg;
	if (e->cstats)
		out_cert_consistency_array(j, "cert_consistency", e->cstats);
}

/* Known interception CAs (the package's list, then --interception-cas
 * files) and the trust store.  -1 after a one-line error. */
static int setup_certs(struct options *o, struct engine *e, struct intercept_db **icpt_out)
{
	char err[512], path[PATH_MAX];
	struct intercept_db *icpt = intercept_db_new();
	if (!icpt) {
		fprintf(stderr, "tamperscope: out of memory\n");
		return -1;
	}
	*icpt_out = icpt;
	if (data_file_path("interception-cas.tsv", path, sizeof(path)) == 0) {
		if (intercept_db_load(icpt, path, err, sizeof(err)) < 0) {
			fprintf(stderr, "tamperscope: %s\n", err);
			return -1;
		}
	} else {
		fprintf(stderr, "tamperscope: warning: the interception-CA list interception-cas.tsv "
			"was not found; only --interception-cas files are used\n");
	}
	for (int i = 0; i < o->n_icpt; i++) {
		if (intercept_db_load(icpt, o->icpt_files[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "tamperscope: %s\n", err);
			return -1;
		}
	}
	if (icpt->refused)
		fprintf(stderr, "tamperscope: warning: %llu interception-CA entries over the cap were ignored\n",
			(unsigned long long)icpt->refused);
	struct cert_cfg cc = { .ca_bundle = o->ca_bundle, .icpt = icpt, .seed = o->cfg.seed.k[0] };
	e->certs = cert_ctx_new(&cc, err, sizeof(err));
	if (!e->certs) {
		if (o->ca_bundle) {
			fprintf(stderr, "tamperscope: %s\n", err);
			return -1;
		}
		/* No system bundle: say so once and report trust as unknown. */
		fprintf(stderr, "tamperscope: warning: %s; certificate chains are not validated\n", err);
		return 0;
	}
	e->cstats = certstats_new(0, &o->cfg.seed);
	e->ca = calloc(1, sizeof(*e->ca));
	if (!e->cstats || !e->ca) {
		fprintf(stderr, "tamperscope: out of memory\n");
		return -1;
	}
	return 0;
}

static bool is_stdout(const char *p) { return p && strcmp(p, "-") == 0; }

int main(int argc, char **argv)
{
	static struct options o;
	if (argc > 1 && strcmp(argv[1], "merge") == 0)
		return report_merge_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "asn") == 0)
		return asn_main(argc - 1, argv + 1);
	int rc = parse_options(argc, argv, &o);
	if (rc)
		return rc;
	install_signals();

	static struct engine e;
	if (engine_init(&e, &o.cfg) < 0) {
		fprintf(stderr, "tamperscope: cannot initialise (out of memory or nDPI failed)\n");
		return 1;
	}
	char err[512], warn[512] = "";
	struct testlist *tl = NULL;
	if (o.test_list) {
		tl = testlist_new();
		if (!tl || testlist_load_file(tl, o.test_list, on_bad_testlist_line,
					      (void *)o.test_list, err, sizeof(err)) < 0) {
			fprintf(stderr, "tamperscope: %s\n", tl ? err : "out of memory");
			testlist_free(tl);
			engine_free(&e);
			return 1;
		}
		o.report.testlist = tl;
	}
	asn_cfg_from_env(&o.asn);
	o.asn.seed = &o.cfg.seed;
	e.asn = asn_open(&o.asn, err, sizeof(err), warn, sizeof(warn));
	if (!e.asn) {
		fprintf(stderr, "tamperscope: %s\n", err);
		testlist_free(tl);
		engine_free(&e);
		return 1;
	}
	/* Live, a missing database matters now; offline the warning goes with
	 * the closing counters, so a bad input still gets one line alone. */
	bool live = o.live.iface || o.replay;
	if (warn[0] && live)
		fprintf(stderr, "tamperscope: warning: %s\n", warn);
	struct intercept_db *icpt = NULL;
	if (setup_certs(&o, &e, &icpt) < 0) {
		asn_close(e.asn);
		testlist_free(tl);
		engine_free(&e);
		return 2;
	}
	o.report.extra_json = report_cert_json;
	o.report.extra_arg = &e;
	e.report = report_new(&o.report);
	e.anonymize_clients = o.anonymize;
	if (o.events_path) {
		e.events = out_event_open(o.events_path, err, sizeof(err));
		if (!e.events) {
			fprintf(stderr, "tamperscope: cannot write events: %s\n", err);
			engine_free(&e);
			return 1;
		}
	}

	int status = (o.live.iface || o.replay) ? run_live(&o, &e) : run_offline(&o, &e);

	engine_cert_consistency(&e);
	if (e.events)
		out_event_flush(e.events);
	bool stdout_taken = is_stdout(o.events_path) || is_stdout(o.report_json) ||
			    is_stdout(o.report_csv);
	bool nothing_read = status != 0 && e.st.frames == 0;
	if (!nothing_read && write_reports(&o, &e, !o.quiet && !stdout_taken))
		status = 1;
	/* When no input could be read, the one-line error says it all. */
	if (!(status != 0 && e.st.frames == 0)) {
		if (warn[0] && !live)
			fprintf(stderr, "tamperscope: warning: %s\n", warn);
		engine_print_stats(&e, stderr);
	}
	out_event_close(e.events);
	e.events = NULL;
	report_free(e.report);
	cert_ctx_free(e.certs);
	certstats_free(e.cstats);
	free(e.ca);
	intercept_db_free(icpt);
	asn_close(e.asn);
	testlist_free(tl);
	engine_free(&e);
	free(o.bpf);
	return status;
}
