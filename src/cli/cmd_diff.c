/*
 * cmd_diff.c — `onnxdiff A B` / `onnxdiff diff A B`: argv to
 * od_diff() and a renderer writing to stdout, exit status as diff(1). Also git's calling
 * forms: GIT_EXTERNAL_DIFF with 7 (or 9, for renames) operands, and 1 for an unmerged path.
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli.h"
#include "diff.h"
#include "freeze.h"

static const char diff_usage[] =
	"[diff] [options] A.onnx B.onnx\n"
	"\n"
	"  --color[=WHEN]    colour the output: auto (default), always, never; NO_COLOR and\n"
	"                    TERM=dumb turn it off\n"
	"  --stat            operator histogram, node, parameter and byte deltas instead of the diff\n"
	"  --json            the change list as JSON (schema onnxdiff-diff/1)\n"
	"  -q, --quiet       print nothing; the exit status tells\n"
	"  --atol=X          values equal when |a-b| <= atol + rtol*|b| (default 0: bit-exact)\n"
	"  --rtol=X\n"
	"  --ignore=LIST     leave out categories (comma-separated):\n"
	"%s"
	"  --strict-names    renames alone make the models different\n"
	"  --renames         list every renamed node instead of counting them\n"
	"  --fold            fold constants on both sides first (the folder of freeze)\n"
	"\n"
	"With the 7 operands of git's GIT_EXTERNAL_DIFF (path old-file old-hex old-mode new-file\n"
	"new-hex new-mode) it diffs old-file and new-file labelled with path, exiting 0 so that\n"
	"git goes on; 'onnxdiff textconv MODEL' is the textconv driver (see man onnxdiff).\n"
	"\n"
	"exit status: 0 same (renames alone do not count), 1 different, 2 trouble";

struct usage_buf {
	char text[2048];
	size_t len;
};

static void add_category(const char *word, const char *desc, void *priv)
{
	struct usage_buf *u = priv;
	if (u->len < sizeof u->text)
		u->len += (size_t)snprintf(u->text + u->len, sizeof u->text - u->len,
		                           "                      %-11s %s\n", word, desc);
}

static int print_usage(FILE *f)
{
	struct usage_buf u = {.len = 0};
	u.text[0] = 0;
	od_diff_ignore_each(add_category, &u);
	fprintf(f, "usage: onnxdiff ");
	fprintf(f, diff_usage, u.text);
	fputc('\n', f);
	return f == stdout ? CLI_SAME : CLI_TROUBLE;
}

enum { OPT_COLOR = 256, OPT_STAT, OPT_JSON, OPT_ATOL, OPT_RTOL, OPT_IGNORE, OPT_STRICT,
       OPT_RENAMES, OPT_FOLD };

static const struct option long_opts[] = {
	{"color", optional_argument, NULL, OPT_COLOR},
	{"colour", optional_argument, NULL, OPT_COLOR},
	{"stat", no_argument, NULL, OPT_STAT},
	{"json", no_argument, NULL, OPT_JSON},
	{"quiet", no_argument, NULL, 'q'},
	{"atol", required_argument, NULL, OPT_ATOL},
	{"rtol", required_argument, NULL, OPT_RTOL},
	{"ignore", required_argument, NULL, OPT_IGNORE},
	{"strict-names", no_argument, NULL, OPT_STRICT},
	{"renames", no_argument, NULL, OPT_RENAMES},
	{"fold", no_argument, NULL, OPT_FOLD},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

struct diff_args {
	const char *color;
	bool stat, json, quiet, fold;
	struct od_diff_opts opts;
	struct od_emit_opts emit;
};

static int parse_tol(const char *opt, const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || isinf(v))
		return cli_error("bad value for %s: '%s' (a number >= 0)", opt, s);
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct diff_args *a)
{
	struct od_ctx ctx = {0};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_COLOR:
			a->color = optarg ? optarg : "always";
			if (strcmp(a->color, "auto") && strcmp(a->color, "always") && strcmp(a->color, "never"))
				return cli_error("bad value for --color: '%s' (auto, always or never)", a->color);
			break;
		case OPT_STAT: a->stat = true; break;
		case OPT_JSON: a->json = true; break;
		case 'q': a->quiet = true; break;
		case OPT_ATOL:
			if (parse_tol("--atol", optarg, &a->opts.atol))
				return CLI_TROUBLE;
			break;
		case OPT_RTOL:
			if (parse_tol("--rtol", optarg, &a->opts.rtol))
				return CLI_TROUBLE;
			break;
		case OPT_IGNORE:
			if (od_diff_ignore_parse(optarg, &a->opts.ignore, &ctx))
				return cli_error("%s", ctx.msg);
			break;
		case OPT_STRICT: a->opts.strict_names = true; break;
		case OPT_RENAMES: a->emit.list_renames = true; break;
		case OPT_FOLD: a->fold = true; break;
		case 'h': return -1;
		default:
			if (optopt)
				return cli_error("unknown option '-%c' (see 'onnxdiff diff --help')", optopt);
			return cli_error("unknown option '%s' (see 'onnxdiff diff --help')", argv[optind - 1]);
		}
	}
	return 0;
}

static int render(const struct od_diff *d, const struct diff_args *a)
{
	int rc = 0;
	if (a->quiet)
		return 0;
	if (a->json)
		rc = od_diff_emit_json(d, &a->emit, cli_write_file, stdout);
	else if (a->stat)
		rc = od_diff_emit_stat(d, &a->emit, cli_write_file, stdout);
	else
		rc = od_diff_emit_text(d, &a->emit, cli_write_file, stdout);
	if (!rc && fflush(stdout))
		rc = OD_EIO;
	if (rc)
		return cli_error("cannot write the diff: %s", od_strerror(rc));
	return 0;
}

/* Diffs two loaded models (and frees them): exit status as diff(1). */
static int diff_models(struct od_model *ma, struct od_model *mb, struct diff_args *a)
{
	struct od_diff *d = NULL;
	struct od_ctx ctx = {0};
	int rc = 0;
	if (a->fold && (od_fold_model(ma, NULL, NULL, &ctx) || od_fold_model(mb, NULL, NULL, &ctx)))
		rc = cli_error("%s", ctx.msg);
	if (a->fold)
		cli_trace("fold");
	if (!rc && od_diff(ma, mb, &a->opts, &d, &ctx))
		rc = cli_error("%s", ctx.msg);
	cli_trace("diff");
	if (!rc)
		rc = render(d, a);
	cli_trace("print");
	if (!rc)
		rc = od_diff_is_same(d) ? CLI_SAME : CLI_DIFFERENT;
	od_diff_free(d);
	od_model_free(mb);
	od_model_free(ma);
	return rc;
}

static int run_diff(const char *pa, const char *pb, struct diff_args *a)
{
	struct od_model *ma = NULL, *mb = NULL;
	int rc = cli_load(pa, &ma);
	if (!rc)
		rc = cli_load(pb, &mb);
	if (rc) {
		od_model_free(ma);
		return rc;
	}
	cli_trace("load");
	return diff_models(ma, mb, a);
}

/* git's view of an added or deleted model: its canonical dump, every line signed; frees m. */
struct signer {
	char sign;
	bool bol;
};

static int signed_write(void *priv, const char *buf, size_t len)
{
	struct signer *s = priv;
	for (size_t i = 0; i < len; i++) {
		if (s->bol && (putchar(s->sign) == EOF || putchar(' ') == EOF))
			return OD_EIO;
		if (putchar(buf[i]) == EOF)
			return OD_EIO;
		s->bol = buf[i] == '\n';
	}
	return 0;
}

static int one_sided(const char *path, struct od_model *m, bool added)
{
	struct od_ctx ctx = {0};
	struct signer s = {added ? '+' : '-', true};
	int rc = 0;
	cli_print(stdout, "--- %s%s", added ? "" : "a/", added ? "/dev/null" : path);
	cli_print(stdout, "+++ %s%s", added ? "b/" : "", added ? path : "/dev/null");
	if (od_diff_textconv(m, signed_write, &s, &ctx))
		rc = cli_error("%s", ctx.msg);
	od_model_free(m);
	return rc;
}

/* diff(1)'s unified diff of two files that are not models, as git would show them (text,
 * or "Binary files ... differ"); 0 when it ran, whatever it found. */
static int plain_diff(const char *la, const char *lb, const char *fa, const char *fb)
{
	if (fflush(stdout))
		return cli_error("cannot write the diff: %s", strerror(errno));
	pid_t pid = fork();
	if (pid == 0) {
		execlp("diff", "diff", "-u", "--label", la, "--label", lb, fa, fb, (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return cli_error("cannot run diff(1): %s", strerror(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) > 1)
		return cli_error("diff(1) of '%s' and '%s' failed (%s %d)", fa, fb,
		                 WIFEXITED(st) ? "exit" : "signal",
		                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 0;
}

/* Loads path when it is a model; *m stays NULL for /dev/null. Returns 0, OD_EFORMAT when the
 * file is not a model (quietly), or CLI_TROUBLE after an error line. */
static int git_load(const char *path, struct od_model **m)
{
	struct od_ctx ctx = {0};
	*m = NULL;
	if (!strcmp(path, "/dev/null"))
		return 0;
	int rc = od_model_load(path, NULL, m, &ctx);
	if (rc == OD_EFORMAT)
		return rc;
	return rc ? cli_error("%s", ctx.msg) : 0;
}

/* GIT_EXTERNAL_DIFF: path old-file old-hex old-mode new-file new-hex new-mode [new-path
 * xfrm-msg]. git stops at a non-zero status, so differences exit 0 here; a file that is not
 * a model (notes.txt next to the models) gets diff(1)'s unified diff. */
static int git_external(char **op, int n, struct diff_args *a)
{
	char la[4096], lb[4096];
	const char *new_path = n == 9 ? op[7] : op[0];
	struct od_model *ma = NULL, *mb = NULL;
	bool gone = !strcmp(op[4], "/dev/null"), added = !strcmp(op[1], "/dev/null");
	snprintf(la, sizeof la, "%s%s", added ? "" : "a/", added ? "/dev/null" : op[0]);
	snprintf(lb, sizeof lb, "%s%s", gone ? "" : "b/", gone ? "/dev/null" : new_path);
	int ra = git_load(op[1], &ma), rb = ra == CLI_TROUBLE ? 0 : git_load(op[4], &mb);
	if (ra == CLI_TROUBLE || rb == CLI_TROUBLE) {
		od_model_free(ma);
		od_model_free(mb);
		return CLI_TROUBLE;
	}
	if (ra || rb) {
		od_model_free(ma);
		od_model_free(mb);
		return plain_diff(la, lb, op[1], op[4]);
	}
	if (added || gone)      /* the model of the side that exists; (the other is NULL) */
		return one_sided(added ? new_path : op[0], added ? mb : ma, added);
	a->emit.a_label = a->json ? op[0] : la;     /* JSON: the paths, without git's a/ b/ */
	a->emit.b_label = a->json ? new_path : lb;
	int rc = diff_models(ma, mb, a);
	return rc == CLI_DIFFERENT ? CLI_SAME : rc;
}

int cmd_diff(int argc, char **argv)
{
	struct diff_args a = {0};
	char la[4096], lb[4096];
	int rc = parse_args(argc, argv, &a);
	if (rc < 0)
		return print_usage(stdout);
	if (rc)
		return rc;
	char **op = argv + optind;
	int n = argc - optind;
	a.emit.color = a.json ? false : cli_color(a.color, stdout);
	if (n == 7 || n == 9)
		return git_external(op, n, &a);
	if (n == 1 && getenv("GIT_DIFF_PATH_COUNTER")) {
		printf("* Unmerged path %s\n", op[0]);
		return CLI_SAME;
	}
	if (n != 2)
		return cli_error("%s: want two models, A.onnx B.onnx (see 'onnxdiff --help')",
		                 n < 2 ? "too few operands" : "too many operands");
	if (!a.json) {          /* git's labels in text; JSON gives the paths as they are */
		snprintf(la, sizeof la, "a/%s", op[0] + strspn(op[0], "/"));
		snprintf(lb, sizeof lb, "b/%s", op[1] + strspn(op[1], "/"));
		a.emit.a_label = la;
		a.emit.b_label = lb;
	}
	return run_diff(op[0], op[1], &a);
}
