/*
 * cmd_freeze.c — `onnxdiff freeze IN -o OUT --set NAME=VALUE...`: what
 * functools.partial(model.forward, mask=m) was meant to do at export time, done after it.
 *
 * Exit 0 written; 1 --expect-inputs did not hold (nothing written); 2 trouble (one line on
 * stderr, nothing written, IN untouched). The summary goes to stdout, so CI logs show it.
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "cli.h"
#include "freeze.h"
#include "verify.h"

static const char usage[] = "freeze MODEL -o OUT --set NAME=VALUE... [options] (see --help)";

static const char help[] =
	"usage: onnxdiff freeze MODEL -o OUT --set NAME=VALUE [--set NAME=VALUE...] [options]\n"
	"\n"
	"  --set NAME=VALUE     freeze input NAME; VALUE is a literal (0.5, 16000, true, [[1,1,0,0]]),\n"
	"                       @file.npy or @file.pb (a serialized TensorProto)\n"
	"  -o, --output OUT     where to write: a regular file or a new name (a temporary file\n"
	"                       beside it, renamed when complete; an existing OUT keeps its mode)\n"
	"  --expect-inputs A,B  the result must have exactly these inputs (else exit 1, nothing written)\n"
	"  --strict             a node still reading only values derived from a frozen one is an error\n"
	"  --max-growth X       bytes of constants folding may add: a ratio of the model's own\n"
	"                       (default 1, plus 1 MiB), a size (512B, 100K, 10MiB) or 'none'\n"
	"  --no-fold            only bind the values and prune what no longer reaches an output\n"
	"  --keep-unused-inputs keep the inputs nothing reads after folding (default: dropped, listed)\n"
	"  --write-shapes       store the inferred type of every value as value_info\n"
	"  --external-data      write payloads of 1 KiB and more to OUT.<hash>.data beside OUT (payloads\n"
	"                       that were external stay external; over 2 GB it is automatic)\n"
	"  --verify             before writing, run MODEL with the values fed and the result on\n"
	"                       the same seeded random inputs; refuse to write when they differ\n"
	"  --force              allow OUT to be the input model\n"
	"  -q, --quiet          no summary\n"
	"\n"
	"exit status: 0 written, 1 --expect-inputs or --verify did not hold, 2 trouble\n";

struct set {
	char *name;             /* argv text, split at '=' */
	const char *spec;
};

struct freeze_args {
	const char *in, *out;
	struct set *sets;       /* malloc'd */
	size_t n_sets;
	char *expect;           /* --expect-inputs list, or NULL */
	bool quiet, force, verify;
	struct od_freeze_opts opts;
	struct od_save_opts save;
};

/* "2", "1.5x": a ratio; "100K", "10MiB", "512B": bytes; "none": no limit. */
static int parse_growth(const char *s, struct od_freeze_opts *o)
{
	static const struct { const char *suffix; double mult; } units[] = {
		{"", 0}, {"x", 0}, {"B", 1}, {"K", 1024}, {"KB", 1024}, {"KiB", 1024},
		{"M", 1048576}, {"MB", 1048576}, {"MiB", 1048576},
		{"G", 1073741824}, {"GB", 1073741824}, {"GiB", 1073741824},
	};
	char *end;
	if (!strcmp(s, "none")) {
		o->max_growth_bytes = -1;
		return 0;
	}
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !isfinite(v) || v < 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
		if (strcasecmp(end, units[i].suffix))
			continue;
		if (units[i].mult == 0) {
			if (v <= 0)
				return -1;
			o->max_growth = v;
		} else {
			double b = v * units[i].mult;
			if (b < 1 || b > 9e18)
				return -1;
			o->max_growth_bytes = (int64_t)b;
		}
		return 0;
	}
	return -1;
}

static int parse_args(int argc, char **argv, struct freeze_args *fa)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'}, {"set", required_argument, NULL, 's'},
		{"expect-inputs", required_argument, NULL, 'e'}, {"strict", no_argument, NULL, 'S'},
		{"max-growth", required_argument, NULL, 'g'}, {"no-fold", no_argument, NULL, 'n'},
		{"force", no_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'},
		{"external-data", no_argument, NULL, 'x'}, {"verify", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'}, {"keep-unused-inputs", no_argument, NULL, 'K'},
		{"write-shapes", no_argument, NULL, 'W'}, {0}};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:s:qfh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': fa->out = optarg; break;
		case 'e': fa->expect = optarg; break;
		case 'S': fa->opts.strict = true; break;
		case 'n': fa->opts.no_fold = true; break;
		case 'K': fa->opts.keep_unused_inputs = true; break;
		case 'W': fa->opts.write_shapes = true; break;
		case 'f': fa->force = fa->save.replace_input = true; break;
		case 'q': fa->quiet = true; break;
		case 'x': fa->save.external_data = true; break;
		case 'V': fa->verify = true; break;
		case 'h': fputs(help, stdout); return -1;
		case 'g':
			if (parse_growth(optarg, &fa->opts))
				return cli_error("bad --max-growth '%s': want a ratio (2, 1.5x), a size (512B, 100K, 10MiB) or 'none'", optarg);
			break;
		case 's': {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg)
				return cli_error("--set wants NAME=VALUE, got '%s'", optarg);
			struct set *v = realloc(fa->sets, (fa->n_sets + 1) * sizeof *v);
			if (!v)
				return cli_error("out of memory");
			fa->sets = v;
			*eq = 0;
			fa->sets[fa->n_sets++] = (struct set){optarg, eq + 1};
			break;
		}
		default:
			return cli_bad_option("freeze", argv);
		}
	}
	if (optind + 1 != argc || !fa->out)
		return cli_usage(usage);
	fa->in = argv[optind];
	if (!fa->n_sets)
		return cli_error("nothing to freeze: give --set NAME=VALUE");
	return 0;
}

/* OUT naming the input file (also through another path or a link) needs --force. */
static int check_paths(const struct freeze_args *fa)
{
	struct stat si, so;
	if (fa->force || stat(fa->in, &si) || stat(fa->out, &so))
		return 0;
	if (si.st_dev == so.st_dev && si.st_ino == so.st_ino)
		return cli_error("output '%s' is the input model: use --force to overwrite it", fa->out);
	return 0;
}

/* Parses every --set value for its input (literals take the input's dtype). */
static int parse_values(struct od_model *m, const struct freeze_args *fa, struct od_binding *b)
{
	for (size_t i = 0; i < fa->n_sets; i++) {
		struct od_ctx ctx = {0};
		const char *name = fa->sets[i].name, *spec = fa->sets[i].spec;
		const struct od_value *in = od_graph_find_input(m->graph, name);
		if (!in)
			return cli_error("input '%s' not found in graph", name);
		int dtype = spec[0] == '@' || in->kind != OD_TYPE_TENSOR ? OD_UNDEFINED : in->dtype;
		if (od_tensor_parse(m->arena, spec, dtype, &b[i].value, &ctx))
			return cli_error("value for '%s': %s", name, ctx.msg);
		b[i].name = name;
	}
	return 0;
}

/* --expect-inputs: the failed assertions on stderr; returns how many failed, or -1. */
static int check_inputs(const struct od_model *m, char *list)
{
	size_t n;
	const char **names = cli_split(list, &n);
	if (!names)
		return -1;
	struct od_check_spec spec = {.inputs = names, .n_inputs = n, .check_inputs = true};
	int failed = od_check(m, &spec, cli_write_file, stderr);
	free(names);
	return failed;
}

/* SIGINT, SIGTERM, SIGHUP while writing: the temporary files go, then the signal kills. */
static void on_signal(int sig)
{
	od_save_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int save(struct od_model *m, struct freeze_args *fa, struct od_ctx *ctx)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_handler = on_signal}, old[3];
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	int rc = od_model_save(m, fa->out, &fa->save, ctx);
	for (size_t i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	return rc;
}

/* --verify: the original with the values fed against the frozen model m. 0 same, 1 they
 * differ (the report on stdout), 2 trouble. */
static int verify(const struct freeze_args *fa, struct od_model *m, const struct od_binding *b)
{
	struct od_model *orig = NULL;
	struct od_verify_report *r = NULL;
	struct od_ctx ctx = {0};
	struct od_feed *feeds = calloc(fa->n_sets + 1, sizeof *feeds);
	int rc = CLI_TROUBLE;
	if (!feeds) {
		rc = cli_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < fa->n_sets; i++)
		feeds[i] = (struct od_feed){b[i].name, b[i].value};
	struct od_verify_opts o = {.atol = -1, .rtol = -1, .feeds_a = feeds, .n_feeds_a = fa->n_sets};
	if (cli_load(fa->in, &orig))
		goto out;
	if (od_verify(orig, m, &o, &r, &ctx)) {
		cli_error("cannot verify: %s", ctx.msg);
		goto out;
	}
	rc = CLI_SAME;
	if (!r->same) {
		od_verify_report_text(r, cli_write_file, stdout);
		fflush(stdout);
		cli_error("not written: '%s' computes other values than '%s' with the values fed",
		          fa->out, fa->in);     /* escaped, as every error line */
		rc = CLI_DIFFERENT;
	}
out:
	od_verify_report_free(r);
	od_model_free(orig);
	free(feeds);
	return rc;
}

static int run(struct freeze_args *fa)
{
	struct od_model *m = NULL;
	struct od_freeze_report *rep = NULL;
	struct od_binding *b = NULL;
	struct od_ctx ctx = {0};
	int rc = CLI_TROUBLE;
	if (check_paths(fa) || cli_load(fa->in, &m))
		goto out;
	cli_trace("load");
	if (!(b = calloc(fa->n_sets, sizeof *b))) {
		cli_error("out of memory");
		goto out;
	}
	if (parse_values(m, fa, b))
		goto out;
	if (od_freeze(m, b, fa->n_sets, &fa->opts, &rep, &ctx)) {
		cli_error("%s", ctx.msg);
		goto out;
	}
	cli_trace("freeze");
	if (fa->expect) {
		int failed = check_inputs(m, fa->expect);
		if (failed < 0) {
			cli_error("out of memory");
			goto out;
		}
		if (failed) {
			if (!fa->quiet)
				od_freeze_report_text(rep, cli_write_file, stdout);
			fflush(stdout);
			cli_error("not written: '%s' does not have the expected inputs", fa->out);
			rc = CLI_DIFFERENT;
			goto out;
		}
	}
	if (fa->verify && (rc = verify(fa, m, b)) != CLI_SAME)
		goto out;
	rc = CLI_TROUBLE;
	if (save(m, fa, &ctx)) {
		cli_error("%s", ctx.msg);
		goto out;
	}
	cli_trace("write");
	if (!fa->quiet && (od_freeze_report_text(rep, cli_write_file, stdout) ||
	                   cli_print(stdout, "written: %s", fa->out) || fflush(stdout))) {
		int err = errno;
		clearerr(stdout);
		cli_error("'%s' is written, but its summary is not: %s", fa->out, strerror(err));
		goto out;
	}
	rc = CLI_SAME;
out:
	od_freeze_report_free(rep);
	free(b);
	od_model_free(m);
	return rc;
}

int cmd_freeze(int argc, char **argv)
{
	struct freeze_args fa = {0};
	int rc = parse_args(argc, argv, &fa);
	if (rc < 0)
		rc = CLI_SAME;                  /* --help */
	else if (!rc)
		rc = run(&fa);
	free(fa.sets);
	return rc;
}
