/*
 * cmd_verify.c — `onnxdiff verify A B`: do two models compute the same outputs on the same
 * feeds? When not, which pair of matched nodes diverges first.
 *
 * Exit 0 within tolerance; 1 not; 2 trouble (one line on stderr).
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cli_feed.h"
#include "verify.h"

static const char usage[] = "verify A B [--feed NAME=VALUE]... [options] (see --help)";

static const char help[] =
	"usage: onnxdiff verify A B [--feed NAME=VALUE]... [options]\n"
	"\n"
	"  --feed NAME=VALUE    the value of input NAME in both models (or in the one that has it):\n"
	"                       a literal, @file.npy or @file.pb; other inputs get seeded random\n"
	"                       values, the same in both (paired by name, else by position)\n"
	"  --dim NAME=SIZE      the size of symbolic dim NAME for random inputs (default 1)\n"
	"  --seed N             seed of the random inputs (default 0)\n"
	"  --samples K          random feeds to try (seeds N, N+1, ...; default 1)\n"
	"  --atol X, --rtol Y   equal when |a - b| <= X + Y * |b| (default 1e-5, 1e-4)\n"
	"  --threads N          threads to evaluate with (default: every CPU this process may use)\n"
	"  --json               the report as JSON (schema onnxdiff-verify/1)\n"
	"  -q, --quiet          no report, only the exit status\n"
	"\n"
	"exit status: 0 same within tolerance, 1 different, 2 trouble\n";

struct verify_args {
	const char *a, *b;
	struct cli_feeds feeds;
	struct od_verify_opts o;
	bool json, quiet;
};

static int parse_real(const char *opt, const char *arg, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (end == arg || *end || errno || !isfinite(v) || v < 0)
		return cli_error("bad %s '%s': want a number of 0 or more", opt, arg);
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct verify_args *va)
{
	static const struct option opts[] = {
		{"feed", required_argument, NULL, 'F'}, {"dim", required_argument, NULL, 'D'},
		{"seed", required_argument, NULL, 'S'}, {"samples", required_argument, NULL, 'k'},
		{"atol", required_argument, NULL, 'a'}, {"rtol", required_argument, NULL, 'r'},
		{"threads", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'}, {0}};
	int c, rc = 0;
	long v;
	while (!rc && (c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'F': rc = cli_feed_opt(&va->feeds, "feed", optarg); break;
		case 'D': rc = cli_feed_opt(&va->feeds, "dim", optarg); break;
		case 'S': rc = cli_feed_opt(&va->feeds, "seed", optarg); break;
		case 'k':
			if (!(rc = cli_parse_count("--samples", optarg, 1, 100000, &v)))
				va->o.samples = (int)v;
			break;
		case 'a': rc = parse_real("--atol", optarg, &va->o.atol); break;
		case 'r': rc = parse_real("--rtol", optarg, &va->o.rtol); break;
		case 't':
			if (!(rc = cli_parse_count("--threads", optarg, 1, 1024, &v)))
				va->o.threads = (int)v;
			break;
		case 'j': va->json = true; break;
		case 'q': va->quiet = true; break;
		case 'h': fputs(help, stdout); return -1;
		default: return cli_usage(usage);
		}
	}
	if (rc)
		return rc;
	if (optind + 2 != argc)
		return cli_usage(usage);
	va->a = argv[optind], va->b = argv[optind + 1];
	return 0;
}

/* Every --feed must name an input of A or of B. */
static int feeds_known(const struct verify_args *va, const struct od_model *a,
                       const struct od_model *b)
{
	for (size_t i = 0; i < va->feeds.n_feeds; i++) {
		const char *name = va->feeds.feeds[i].name;
		if (!od_graph_find_input(a->graph, name) && !od_graph_find_input(b->graph, name))
			return cli_error("input '%s' not found in '%s' nor in '%s'", name, va->a, va->b);
	}
	return 0;
}

static int verify(struct verify_args *va)
{
	struct od_model *a = NULL, *b = NULL;
	struct od_arena *ar = od_arena_new();
	struct od_verify_report *r = NULL;
	struct od_ctx ctx = { 0 };
	struct od_feed *fa, *fb;
	int rc = CLI_TROUBLE;
	cli_keep_freed_memory();
	if (!ar || cli_load(va->a, &a) || cli_load(va->b, &b) || feeds_known(va, a, b) ||
	    cli_feeds_parse(a, &va->feeds, true, ar, &fa, &va->o.n_feeds_a) ||
	    cli_feeds_parse(b, &va->feeds, true, ar, &fb, &va->o.n_feeds_b))
		goto out;
	va->o.feeds_a = fa, va->o.feeds_b = fb;
	va->o.seed = va->feeds.seed;
	va->o.dims = va->feeds.dims, va->o.n_dims = va->feeds.n_dims;
	if (od_verify(a, b, &va->o, &r, &ctx)) {
		cli_error("%s", ctx.msg);
		goto out;
	}
	int wr = va->quiet ? 0 : va->json ? od_verify_report_json(r, cli_write_file, stdout) :
	         od_verify_report_text(r, cli_write_file, stdout);
	if (wr || fflush(stdout)) {
		cli_error("cannot write the report: %s", strerror(errno));
		goto out;
	}
	rc = r->same ? CLI_SAME : CLI_DIFFERENT;
out:
	od_verify_report_free(r);
	od_arena_free(ar);
	od_model_free(a);
	od_model_free(b);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	struct verify_args va = { .o = { .atol = -1, .rtol = -1 } };
	int rc = parse_args(argc, argv, &va);
	if (rc < 0)
		rc = CLI_SAME;                  /* --help */
	else if (!rc)
		rc = verify(&va);
	cli_feeds_free(&va.feeds);
	return rc;
}
