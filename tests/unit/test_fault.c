/*
 * test_fault.c — every allocation failing in turn, and every write failing in turn, through
 * load, validate, show, serialize, save, diff and freeze: a clean negative error, the model
 * still freeable, no leak (in the --enable-sanitizers tree LeakSanitizer checks each test
 * before it ends), and a failed save leaves no file and the input untouched.
 */
#include "config.h"
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "od.h"
#include "internal.h"
#include "diff.h"
#include "freeze.h"
#include "helpers.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK() cr_assert_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked (see the LeakSanitizer report above)")
#else
#define LEAK_CHECK() ((void)0)
#endif


#define FIX OD_SRCDIR "/fixtures/"
#define BAD OD_SRCDIR "/tests/bad/"
#define MAX_TRIES 200000

#ifndef OD_FAULT_INJECTION
Test(fault, hooks_compiled_out)
{
	cr_skip_test("configured with --disable-fault-injection");
}
#else

/* ---- helpers ---------------------------------------------------------------------------- */

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	cr_assert(d);
	for (struct dirent *e; (e = readdir(d)); )
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void rm_rf(char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
	free(dir);
}

static void copy_file(const char *from, const char *to)
{
	size_t len;
	void *buf = slurp(from, &len);
	FILE *f = fopen(to, "wb");
	cr_assert(f && fwrite(buf, 1, len, f) == len && fclose(f) == 0);
	free(buf);
}

static bool same_bytes(const char *path, const void *buf, size_t len)
{
	size_t n;
	void *now = slurp(path, &n);
	bool same = n == len && !memcmp(now, buf, len);
	free(now);
	return same;
}

/* A message is one line, and for out of memory it says so. */
static void assert_clean(int rc, const struct od_ctx *ctx, long k, const char *what)
{
	cr_assert_lt(rc, 0, "%s: allocation %ld failed, rc %d", what, k, rc);
	cr_assert(*ctx->msg && !strchr(ctx->msg, '\n'), "%s: allocation %ld: message '%s'", what, k, ctx->msg);
	if (rc == OD_ENOMEM)
		cr_assert(strstr(ctx->msg, "out of memory"), "%s: allocation %ld: '%s'", what, k, ctx->msg);
}

static int sink(void *priv, const char *buf, size_t len)
{
	(void)buf;
	*(size_t *)priv += len;
	return 0;
}

/* jansson allocates through the library's hook too, so show --json sees failures. */
static void *json_alloc(size_t n) { return od_malloc(n); }
static void json_release(void *p) { od_free(p); }

/* Runs body with allocation k failing, k = 1, 2, ... until a run needs fewer than k
 * allocations; body is 0 on success, else a negative code it already checked. A failure
 * the call swallows (it succeeds although allocation k failed) fails the test. Sets sites
 * to the number of allocations tripped. */
#define EACH_ALLOCATION(what, k, body) do { \
	long k; \
	for (k = 1; k < MAX_TRIES; k++) { \
		od_fault_alloc_after(k); \
		int rc_ = (body); \
		long used_ = od_fault_alloc_count(); \
		od_fault_alloc_after(0); \
		if (rc_ == 0 && used_ < k) \
			break; \
		cr_assert(rc_ != 0, "%s: allocation %ld failed but the call succeeded", what, k); \
	} \
	cr_assert_lt(k, MAX_TRIES); \
	cr_log_info("%s: %ld allocations failed in turn", what, k - 1); \
	sites = k - 1; (void)sites; \
} while (0)

/* Parameters cross into the test's own process: strings, not pointers. */
struct file { char path[256]; };
#define FILES(...) do { \
	static struct file files[] = {__VA_ARGS__}; \
	return cr_make_param_array(struct file, files, sizeof files / sizeof *files); \
} while (0)

/* ---- load ----------------------------------------------------------------------------------- */

static int try_load(const char *path, long k, int other_rc)
{
	struct od_ctx ctx = {0};
	struct od_model *m = (struct od_model *)1;
	int rc = od_model_load(path, NULL, &m, &ctx);
	if (rc == 0 && other_rc == 0) {
		od_model_free(m);
		return 0;
	}
	cr_assert_null(m, "%s: a failed load returned a model", path);
	assert_clean(rc, &ctx, k, path);
	cr_assert(rc == OD_ENOMEM || rc == other_rc, "%s: allocation %ld: rc %d '%s'", path, k, rc, ctx.msg);
	cr_assert(strstr(ctx.msg, "cannot load '") || strstr(ctx.msg, "out of memory"), "'%s'", ctx.msg);
	return rc == other_rc && rc != OD_ENOMEM && od_fault_alloc_count() < k ? 0 : rc;
}

ParameterizedTestParameters(fault, load_good)
{
	FILES({FIX "seed/with_mask.onnx"}, {FIX "seed/wrapper.onnx"}, {FIX "if/model.onnx"},
	      {FIX "transformer/with_mask.onnx"}, {FIX "hidden/with_hidden.onnx"},
	      {BAD "ok-ext.onnx"}, {BAD "ok-subgraphs-at-limit.onnx"}, {BAD "ok-graph-twice.onnx"});
}

ParameterizedTest(struct file *f, fault, load_good)
{
	long sites;
	EACH_ALLOCATION(f->path, k, try_load(f->path, k, 0));
	cr_assert_gt(sites, 2);
	LEAK_CHECK();
}

/* Every bad file of the catalogue: allocation failures on the error paths too. */
Test(fault, load_bad_catalogue)
{
	FILE *f = fopen(BAD "expected.txt", "r");
	char line[1024], name[256], path[512];
	int status, files = 0;
	long total = 0;
	cr_assert(f);
	while (fgets(line, sizeof line, f)) {
		if (*line == '#' || sscanf(line, "%255s %d", name, &status) != 2 || status != 2 ||
		    !strstr(name, ".onnx"))
			continue;
		snprintf(path, sizeof path, BAD "%s", name);
		struct od_ctx ctx = {0};
		struct od_model *m = NULL;
		int want = od_model_load(path, NULL, &m, &ctx);
		cr_assert_lt(want, 0, "%s loaded", name);
		long sites;
		EACH_ALLOCATION(name, k, try_load(path, k, want));
		total += sites;
		files++;
	}
	fclose(f);
	cr_log_info("%d bad files, %ld allocation failures in all", files, total);
	cr_assert_gt(files, 50);
	LEAK_CHECK();
}

Test(fault, load_buffer_and_validate)
{
	size_t len;
	void *buf = slurp(FIX "transformer/with_mask.onnx", &len);
	long sites;
	EACH_ALLOCATION("load_buffer", k, ({
		struct od_ctx ctx = {0};
		struct od_model *m = NULL;
		int rc = od_model_load_buffer(buf, len, "t", NULL, NULL, &m, &ctx);
		if (rc)
			assert_clean(rc, &ctx, k, "load_buffer");
		od_model_free(m);
		rc;
	}));
	struct od_model *m = NULL;
	struct od_ctx ctx = {0};
	cr_assert_eq(od_model_load_buffer(buf, len, "t", NULL, NULL, &m, &ctx), 0);
	EACH_ALLOCATION("validate", k, ({
		int rc = od_model_validate(m, &ctx);
		if (rc)
			assert_clean(rc, &ctx, k, "validate");
		rc;
	}));
	EACH_ALLOCATION("topo_order", k, ({
		size_t *order = NULL;
		int rc = od_graph_topo_order(m->graph, &order, &ctx);
		free(order);
		if (rc)
			assert_clean(rc, &ctx, k, "topo_order");
		rc;
	}));
	od_model_free(m);
	free(buf);
	LEAK_CHECK();
}

Test(fault, tensor_pb)
{
	long sites;
	EACH_ALLOCATION("tensor_load_pb", k, ({
		struct od_arena *a = od_arena_new();
		struct od_tensor *t = NULL;
		struct od_ctx ctx = {0};
		int rc = a ? od_tensor_load_pb(a, BAD "pb-ok.pb", &t, &ctx) : OD_ENOMEM;
		if (rc && a)
			assert_clean(rc, &ctx, k, "tensor_load_pb");
		else if (!rc)
			cr_assert(t->numel == 4 && t->nbytes == 16);
		od_arena_free(a);
		rc;
	}));
	LEAK_CHECK();
}

/* ---- show ----------------------------------------------------------------------------------- */

ParameterizedTestParameters(fault, show)
{
	FILES({FIX "transformer/with_mask.onnx"}, {FIX "if/model.onnx"}, {BAD "ok-ext.onnx"});
}

ParameterizedTest(struct file *f, fault, show)
{
	struct od_model *m = load(f->path);
	long sites;
	size_t full = 0, n;
	cr_assert_eq(od_show_text(m, sink, &full), 0);
	EACH_ALLOCATION("show_text", k, ({
		n = 0;
		int rc = od_show_text(m, sink, &n);
		cr_assert(rc == 0 || rc == OD_ENOMEM, "show_text: allocation %ld: rc %d", k, rc);
		rc;
	}));
	cr_assert_eq(n, full, "the successful run printed everything");
	json_set_alloc_funcs(json_alloc, json_release);
	cr_assert_eq(od_show_json(m, sink, &(size_t){0}), 0);
	EACH_ALLOCATION("show_json", k, ({
		n = 0;
		int rc = od_show_json(m, sink, &n);
		cr_assert(rc == 0 || rc == OD_ENOMEM, "show_json: allocation %ld: rc %d", k, rc);
		rc;
	}));
	json_set_alloc_funcs(malloc, free);
	od_model_free(m);
	LEAK_CHECK();
}

/* ---- serialize and save ------------------------------------------------------------------------ */

Test(fault, serialize)
{
	struct od_model *m = load(FIX "transformer/with_mask.onnx");
	long sites;
	EACH_ALLOCATION("serialize", k, ({
		struct od_ctx ctx = {0};
		void *buf = NULL;
		size_t len = 0;
		int rc = od_model_serialize(m, &buf, &len, &ctx);
		if (rc) {
			assert_clean(rc, &ctx, k, "serialize");
			cr_assert_null(buf);
		}
		free(buf);
		rc;
	}));
	od_model_free(m);
	LEAK_CHECK();
}

ParameterizedTestParameters(fault, save_alloc)
{
	FILES({FIX "seed/with_mask.onnx"}, {FIX "transformer/with_mask.onnx"}, {BAD "ok-ext.onnx"});
}

ParameterizedTest(struct file *f, fault, save_alloc)
{
	struct od_model *m = load(f->path);
	char *d = tmpdir(), out[512];
	long sites;
	snprintf(out, sizeof out, "%s/out.onnx", d);
	for (int ext = 0; ext < 2; ext++) {
		struct od_save_opts opts = {.external_data = ext, .external_min = 64};
		EACH_ALLOCATION(ext ? "save, external data" : "save", k, ({
			struct od_ctx ctx = {0};
			int rc = od_model_save(m, out, &opts, &ctx);
			if (rc) {
				assert_clean(rc, &ctx, k, "save");
				cr_assert_eq(count_files(d), 0, "save: allocation %ld failed and left a file", k);
			}
			rc;
		}));
		struct od_model *r = load(out);
		cr_assert_eq(od_graph_count_nodes(r->graph), od_graph_count_nodes(m->graph));
		od_model_free(r);
		char cmd[600];
		snprintf(cmd, sizeof cmd, "rm -f '%s'/*", d);
		cr_assert_eq(system(cmd), 0);
	}
	od_model_free(m);
	rm_rf(d);
	LEAK_CHECK();
}

/* Saving over the very file the model was loaded from, with each write failing in turn:
 * the input keeps its bytes and nothing else appears beside it. */
ParameterizedTestParameters(fault, save_write)
{
	FILES({FIX "seed/with_mask.onnx"}, {FIX "transformer/with_mask.onnx"}, {BAD "ok-ext.onnx"});
}

ParameterizedTest(struct file *f, fault, save_write)
{
	const char *path = f->path;
	char *d = tmpdir(), in[512], data[512];
	const char *base = strrchr(path, '/') + 1;
	snprintf(in, sizeof in, "%s/%s", d, base);
	copy_file(path, in);
	bool has_ext = !strcmp(base, "ok-ext.onnx");
	if (has_ext) {
		snprintf(data, sizeof data, "%s/ext-data.bin", d);
		copy_file(BAD "ext-data.bin", data);
	}
	int files = count_files(d);
	size_t len, dlen = 0;
	void *orig = slurp(in, &len), *dorig = has_ext ? slurp(data, &dlen) : NULL;
	for (int ext = 0; ext < 2; ext++) {
		struct od_save_opts opts = {.external_data = ext, .external_min = 16,
		                            .external_name = has_ext ? "ext-data.bin" : NULL,
		                            .replace_input = true};
		struct od_model *m = load(in);
		long k;
		for (k = 1; k < MAX_TRIES; k++) {
			struct od_ctx ctx = {0};
			od_fault_write_after(k);
			int rc = od_model_save(m, in, &opts, &ctx);
			od_fault_write_after(0);
			if (rc == 0)
				break;
			cr_assert_eq(rc, OD_EIO, "write %ld: %s", k, ctx.msg);
			cr_assert(strstr(ctx.msg, "No space left on device"), "write %ld: %s", k, ctx.msg);
			cr_assert(same_bytes(in, orig, len), "write %ld failed and the input changed", k);
			cr_assert(!has_ext || same_bytes(data, dorig, dlen), "write %ld failed and the side file changed", k);
			cr_assert_eq(count_files(d), files, "write %ld failed and left a file behind", k);
		}
		cr_log_info("%s%s: %ld writes failed in turn", base, ext ? " (external data)" : "", k - 1);
		cr_assert_gt(k, 1);
		od_model_free(m);
		/* the successful save replaced the input: put it back for the next round */
		copy_file(path, in);
		if (has_ext)
			copy_file(BAD "ext-data.bin", data);
		if (count_files(d) != files) {  /* the external round added a side file */
			char cmd[600];
			snprintf(cmd, sizeof cmd, "cd '%s' && ls -A | grep -vxF -e '%s' -e ext-data.bin | xargs -r rm -f", d, base);
			cr_assert_eq(system(cmd), 0);
		}
	}
	free(orig);
	free(dorig);
	rm_rf(d);
	LEAK_CHECK();
}

/* A real write error (the file size limit), reported by write(2) itself rather than the
 * hook, at whatever buffer flush it happens. */
Test(fault, save_file_size_limit)
{
	struct od_model *m = load(FIX "transformer/with_mask.onnx");
	char *d = tmpdir(), out[512];
	struct od_ctx ctx = {0};
	snprintf(out, sizeof out, "%s/out.onnx", d);
	signal(SIGXFSZ, SIG_IGN);
	struct rlimit rl = {4096, 4096};
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	int rc = od_model_save(m, out, NULL, &ctx);
	cr_assert_eq(rc, OD_EIO, "%s", ctx.msg);
	cr_assert(strstr(ctx.msg, "cannot write '") && strstr(ctx.msg, "File too large"), "%s", ctx.msg);
	cr_assert_eq(count_files(d), 0, "a failed save left a file");
	od_model_free(m);
	rm_rf(d);
	LEAK_CHECK();
}

/* ---- diff --------------------------------------------------------------------------------------- */

Test(fault, diff)
{
	struct od_model *a = load(FIX "transformer/with_mask.onnx"), *b = load(FIX "transformer/wrapper.onnx");
	long sites;
	EACH_ALLOCATION("diff", k, ({
		struct od_ctx ctx = {0};
		struct od_diff *d = NULL;
		int rc = od_diff(a, b, NULL, &d, &ctx);
		if (rc) {
			assert_clean(rc, &ctx, k, "diff");
			cr_assert_null(d, "a failed diff returned a result");
		}
		od_diff_free(d);
		rc;
	}));
	cr_assert_gt(sites, 2);
	struct od_ctx ctx = {0};
	struct od_diff *d = NULL;
	cr_assert_eq(od_diff(a, b, NULL, &d, &ctx), 0, "%s", ctx.msg);
	int (*emit[])(const struct od_diff *, const struct od_emit_opts *, od_write_fn, void *) =
		{od_diff_emit_text, od_diff_emit_json, od_diff_emit_stat};
	const char *names[] = {"emit_text", "emit_json", "emit_stat"};
	json_set_alloc_funcs(json_alloc, json_release);
	for (int e = 0; e < 3; e++) {
		struct od_emit_opts o = {0};
		EACH_ALLOCATION(names[e], k, ({
			int rc = emit[e](d, &o, sink, &(size_t){0});
			cr_assert(rc == 0 || rc == OD_ENOMEM, "%s: allocation %ld: rc %d", names[e], k, rc);
			rc;
		}));
	}
	json_set_alloc_funcs(malloc, free);
	od_diff_free(d);
	od_model_free(a);
	od_model_free(b);
	LEAK_CHECK();
}

/* ---- freeze ------------------------------------------------------------------------------------- */

struct freeze_case { char model[256], input[64], value[256]; };

ParameterizedTestParameters(fault, freeze)
{
	static struct freeze_case cases[] = {
		{FIX "seed/with_mask.onnx", "mask", "@" FIX "seed/mask.npy"},
		{FIX "transformer/with_mask.onnx", "attention_mask", "@" FIX "transformer/attention_mask.npy"},
		{FIX "if/model.onnx", "flag", "@" FIX "if/flag.npy"},
	};
	return cr_make_param_array(struct freeze_case, cases, sizeof cases / sizeof *cases);
}

ParameterizedTest(struct freeze_case *c, fault, freeze)
{
	long sites;
	/* freeze works in place and may leave the model half-changed: a fresh load each time */
	EACH_ALLOCATION("freeze", k, ({
		long limit = k;
		od_fault_alloc_after(0);
		struct od_model *m = load(c->model);
		od_fault_alloc_after(limit);
		struct od_ctx ctx = {0};
		struct od_binding b = {c->input, NULL};
		struct od_freeze_report *r = NULL;
		int rc = od_tensor_parse(m->arena, c->value, OD_UNDEFINED, &b.value, &ctx);
		if (!rc)
			rc = od_freeze(m, &b, 1, NULL, &r, &ctx);
		if (rc) {
			assert_clean(rc, &ctx, k, "freeze");
		} else {
			rc = od_freeze_report_text(r, sink, &(size_t){0});
			cr_assert(rc == 0 || rc == OD_ENOMEM, "report_text: allocation %ld: rc %d", k, rc);
		}
		od_freeze_report_free(r);
		od_model_free(m);
		rc;
	}));
	cr_assert_gt(sites, 2);
	LEAK_CHECK();
}

Test(fault, npy)
{
	long sites;
	EACH_ALLOCATION("load_npy", k, ({
		struct od_arena *a = od_arena_new();
		struct od_tensor *t = NULL;
		struct od_ctx ctx = {0};
		int rc = a ? od_tensor_load_npy(a, FIX "transformer/attention_mask.npy", &t, &ctx) : OD_ENOMEM;
		if (rc && a)
			assert_clean(rc, &ctx, k, "load_npy");
		od_arena_free(a);
		rc;
	}));
	cr_assert_gt(sites, 2, "load_npy tripped %ld allocations", sites);   /* arena, file, tensor */
	LEAK_CHECK();
}
#endif
