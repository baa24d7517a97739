/*
 * verify_emit.c — the verify report as text (a line per output pair, then the first
 * divergence or the tolerance that held) and as JSON ("schema": "onnxdiff-verify/1").
 * Names from the files go through the library's escaping writers.
 */
#include "config.h"
#include <jansson.h>
#include <math.h>
#include "verify.h"
#include "internal.h"

static void pr(od_write_fn out, void *priv, int *rc, const char *fmt, ...) OD_PRINTF(4, 5);
static void pr(od_write_fn out, void *priv, int *rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	od_vprintf_text(out, priv, rc, fmt, ap);
	va_end(ap);
}

static void output_line(const struct od_verify_output *p, od_write_fn out, void *priv, int *rc)
{
	if (!p->a_name || !p->b_name) {
		pr(out, priv, rc, "%s: only in %s\n", p->a_name ? p->a_name : p->b_name,
		   p->a_name ? "A" : "B");
		return;
	}
	pr(out, priv, rc, "%s <-> %s: ", p->a_name, p->b_name);
	if (!p->compared) {
		pr(out, priv, rc, "%s vs %s  DIFFERENT\n", p->a_type ? p->a_type : "?",
		   p->b_type ? p->b_type : "?");
		return;
	}
	pr(out, priv, rc, "%s  max abs %.3g  max rel %.3g  %s\n", p->a_type, p->max_abs,
	   p->max_rel, p->ok ? "ok" : "DIFFERENT");
}

int od_verify_report_text(const struct od_verify_report *r, od_write_fn out, void *priv)
{
	int rc = 0;
	for (size_t k = 0; k < r->n_outputs; k++)
		output_line(&r->outputs[k], out, priv, &rc);
	if (r->same)
		pr(out, priv, &rc, "same: %zu output%s within atol %g rtol %g (%d sample%s)\n",
		   r->n_outputs, r->n_outputs == 1 ? "" : "s", r->atol, r->rtol, r->samples,
		   r->samples == 1 ? "" : "s");
	else if (r->diverged)
		pr(out, priv, &rc, "first divergence: %s '%s' <-> '%s': %s\n", r->div_op, r->div_a,
		   r->div_b, r->div_what);
	else
		pr(out, priv, &rc, "first divergence: not found among the matched nodes\n");
	return rc;
}

static int json_out(const char *buf, size_t len, void *priv)
{
	void **p = priv;
	od_write_fn out = (od_write_fn)p[0];
	return out(p[1], buf, len) ? -1 : 0;
}

/* A JSON number, or null for inf/nan (JSON has neither). */
static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *jtext(const char *s)
{
	return s ? od_json_text(s) : json_null();
}

int od_verify_report_json(const struct od_verify_report *r, od_write_fn out, void *priv)
{
	json_t *outs = json_array(), *div = json_null();
	int bad = !outs;
	for (size_t k = 0; !bad && k < r->n_outputs; k++) {
		const struct od_verify_output *p = &r->outputs[k];
		bad |= json_array_append_new(outs, json_pack("{s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:b}",
		       "a", jtext(p->a_name), "b", jtext(p->b_name), "a_type", jtext(p->a_type),
		       "b_type", jtext(p->b_type), "compared", p->compared, "max_abs", jnum(p->max_abs),
		       "max_rel", jnum(p->max_rel), "ok", p->ok)) < 0;
	}
	if (r->diverged)
		div = json_pack("{s:o, s:o, s:o, s:o, s:o}", "op", jtext(r->div_op), "a", jtext(r->div_a),
		                "b", jtext(r->div_b), "what", jtext(r->div_what), "max_abs", jnum(r->div_abs));
	if (bad || !div) {
		json_decref(outs);
		json_decref(div);
		return OD_ENOMEM;
	}
	json_t *root = json_pack("{s:s, s:o, s:o, s:b, s:i, s:f, s:f, s:o, s:o}",
	        "schema", "onnxdiff-verify/1", "a", jtext(r->a_path), "b", jtext(r->b_path),
	        "same", r->same, "samples", r->samples, "atol", r->atol, "rtol", r->rtol,
	        "outputs", outs, "first_divergence", div);
	if (!root)
		return OD_ENOMEM;
	void *p[2] = { (void *)out, priv };
	int rc = json_dump_callback(root, json_out, p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!rc)
		rc = out(priv, "\n", 1);
	return rc ? (rc < 0 ? OD_EIO : rc) : 0;
}
