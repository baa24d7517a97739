/*
 * eval_loss.c — the losses exporters leave in training graphs: NegativeLogLikelihoodLoss and
 * SoftmaxCrossEntropyLoss (with its log_prob output), reductions none, sum and mean,
 * per-class weights and ignore_index.
 */
#include "config.h"
#include <math.h>
#include "eval_internal.h"

enum { R_NONE, R_SUM, R_MEAN };

static int read_reduction(struct ev *e, int *red)
{
	char buf[16];
	const char *s = ev_attr_s(e, "reduction", "mean", buf, sizeof buf);
	*red = !strcmp(s, "none") ? R_NONE : !strcmp(s, "sum") ? R_SUM : R_MEAN;
	if (*red == R_MEAN && strcmp(s, "mean"))
		return ev_bad(e, "reduction must be none, sum or mean, not '%s'", s);
	return 0;
}

/* -logp[n, target, d] * weight[target] into output 0, reduced; logp is [N, C, D...] with D
 * flattened, target [N, D...]. */
static int nll(struct ev *e, const struct od_tensor *logp, const struct od_tensor *tgt,
               const struct od_tensor *w)
{
	bool has_ii = ev_attr(e, "ignore_index", OD_ATTR_INT) != NULL;
	int64_t ii = ev_attr_i(e, "ignore_index", 0);
	struct od_tensor *t;
	int red, rc = read_reduction(e, &red);
	if (rc)
		return rc;
	if (logp->ndims < 2 || tgt->ndims != logp->ndims - 1 || tgt->dims[0] != logp->dims[0] ||
	    (tgt->ndims > 1 && memcmp(tgt->dims + 1, logp->dims + 2,
	                              (size_t)(tgt->ndims - 1) * sizeof *tgt->dims)))
		return ev_bad(e, "target shape does not match the input's");
	if (ev_class(tgt->dtype) != EV_CS)
		return ev_bad(e, "target must be int32 or int64");
	int64_t c = logp->dims[1], d = ev_numel(logp->ndims - 2, logp->dims + 2);
	if (w && w->numel != c)
		return ev_bad(e, "weight must hold one value per class");
	if ((rc = ev_new(e, 0, logp->dtype, red == R_NONE ? tgt->ndims : 0, tgt->dims, &t)))
		return rc;
	double sum = 0, wsum = 0;
	for (int64_t i = 0; i < tgt->numel; i++) {
		int64_t n = i / (d ? d : 1), k = i % (d ? d : 1), cls = ev_geti(tgt, i);
		if (has_ii && cls == ii)
			continue;               /* the output stays 0 */
		if (cls < 0 || cls >= c)
			return ev_bad(e, "target %lld out of range for %lld classes", (long long)cls,
			              (long long)c);
		double wt = w ? ev_getf(w, cls) : 1, v = -ev_getf(logp, (n * c + cls) * d + k) * wt;
		if (red == R_NONE)
			ev_setf(t, i, v);
		sum += v;
		wsum += wt;
	}
	if (red != R_NONE)
		ev_setf(t, 0, red == R_SUM ? sum : sum / wsum);
	return 0;
}

int ev_k_nllloss(struct ev *e)
{
	return nll(e, e->in[0], e->in[1], e->nin > 2 ? e->in[2] : NULL);
}

/* log_softmax over axis 1, then the NLL of it; output 1 (optional) is the log_softmax. */
int ev_k_sceloss(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	struct od_tensor *lp;
	if (x->ndims < 2)
		return ev_bad(e, "scores must have a class dimension");
	int64_t c = x->dims[1], d = ev_numel(x->ndims - 2, x->dims + 2), n = x->dims[0];
	int rc = 0;
	if (e->n->n_outputs > 1 && *e->n->outputs[1])
		rc = ev_new(e, 1, x->dtype, x->ndims, x->dims, &lp);
	else if (!(lp = od_tensor_new(e->a, "", x->dtype, x->ndims, x->dims)))
		rc = ev_err(e, OD_ENOMEM, "out of memory");
	if (rc)
		return rc;
	for (int64_t i = 0; i < n; i++)
		for (int64_t k = 0; k < d; k++) {
			double max = -INFINITY, s = 0;
			for (int64_t j = 0; j < c; j++)
				max = fmax(max, ev_getf(x, (i * c + j) * d + k));
			for (int64_t j = 0; j < c; j++)
				s += exp(ev_getf(x, (i * c + j) * d + k) - max);
			for (int64_t j = 0; j < c; j++)
				ev_setf(lp, (i * c + j) * d + k, ev_getf(x, (i * c + j) * d + k) - max - log(s));
		}
	return nll(e, lp, e->in[1], e->nin > 2 ? e->in[2] : NULL);
}
