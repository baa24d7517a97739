/*
 * infer_tensor.c — operators that move data around: Shape, Size, Reshape, Flatten,
 * Squeeze, Unsqueeze, Transpose, Concat, Split, Slice, Gather*, Expand, Tile, Pad,
 * ConstantOfShape, Range, OneHot, NonZero, TopK, Resize, DepthToSpace, and their effect on
 * small known values (Shape arithmetic).
 */
#include "config.h"
#include <math.h>
#include <string.h>
#include "infer.h"

#define MAXR OD_MAX_RANK

/* Copies the input's value to output 0 unchanged (the element order stays). */
static int keep_value(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	if (!x || x->n_value < 0 || !c->nout || c->out[0].rank > 1)
		return 0;
	return sh_value(c, 0, (size_t)x->n_value, x->value);
}

int sh_op_shape(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0);
	if (r < 0)
		return sh_set(c, 0, OD_INT64, 1, NULL);
	int64_t start = sh_attr_i(c, "start", 0), end = sh_attr_i(c, "end", r);
	start = start < 0 ? start + r : start;
	end = end < 0 ? end + r : end;
	start = start < 0 ? 0 : start > r ? r : start;
	end = end < 0 ? 0 : end > r ? r : end;
	int64_t len = end > start ? end - start : 0;
	struct od_dim d = sh_d(len), v[MAXR];
	int rc = sh_set(c, 0, OD_INT64, 1, &d);
	for (int64_t i = 0; i < len; i++)
		v[i] = sh_dim_to_v(x->dims[start + i]);
	return rc ? rc : sh_value(c, 0, (size_t)len, v);
}

int sh_op_size(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int rc = sh_set(c, 0, OD_INT64, 0, NULL);
	struct od_dim p = sh_d(1);
	for (int i = 0; !rc && x && i < x->rank; i++)
		p = sh_dim_mul(p, x->dims[i]);
	return rc || !x || x->rank < 0 ? rc : (p = sh_dim_to_v(p), sh_value(c, 0, 1, &p));
}

/* Solves a Reshape's -1 from what both sides share: statics divide, equal symbols cancel. */
static struct od_dim solve_minus_one(const struct od_shape *x, const struct od_dim *t, int n, int at)
{
	int64_t pin = 1, pout = 1;
	const char *syms[MAXR];
	int ns = 0;
	for (int i = 0; i < x->rank; i++) {
		if (sh_known(x->dims[i])) {
			if (sh_mul(pin, x->dims[i].value, &pin))
				return SH_UNK;  /* no tensor has that many elements */
		} else if (x->dims[i].param)
			syms[ns++] = x->dims[i].param;
		else
			return SH_UNK;
	}
	for (int i = 0; i < n; i++) {
		if (i == at)
			continue;
		if (sh_known(t[i])) {
			if (sh_mul(pout, t[i].value, &pout))
				return SH_UNK;
			continue;
		}
		int k = -1;
		for (int j = 0; t[i].param && j < ns && k < 0; j++)
			if (syms[j] && !strcmp(syms[j], t[i].param))
				k = j;
		if (k < 0)
			return SH_UNK;
		syms[k] = NULL;
	}
	const char *left = NULL;
	int nleft = 0;
	for (int j = 0; j < ns; j++)
		if (syms[j])
			left = syms[j], nleft++;
	if (pout == 0 || pin % pout)
		return SH_UNK;
	if (nleft == 0)
		return sh_d(pin / pout);
	return nleft == 1 && pin == pout ? (struct od_dim){-1, left} : SH_UNK;
}

int sh_op_reshape(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0), *s = sh_in(c, 1);
	int dt = x ? x->dtype : 0;
	struct od_dim t[MAXR];
	int n, minus = -1;
	if (c->nin < 2) {       /* opset 1..4: the 'shape' attribute */
		size_t k;
		const int64_t *a = sh_attr_ints(c, "shape", &k);
		if (!a || k > MAXR)
			return sh_set(c, 0, dt, -1, NULL);
		struct od_dim v[MAXR];
		for (size_t i = 0; i < k; i++)
			v[i] = sh_v(a[i]);
		s = NULL;
		n = (int)k;
		memcpy(t, v, k * sizeof *v);
	} else if (!s || s->n_value < 0) {
		int len = s && s->rank == 1 && sh_known(s->dims[0]) ? (int)s->dims[0].value : -1;
		return sh_set(c, 0, dt, len, NULL);
	} else {
		n = s->n_value;
		memcpy(t, s->value, (size_t)n * sizeof *t);
	}
	bool allowzero = sh_attr_i(c, "allowzero", 0) != 0;
	for (int i = 0; i < n; i++) {
		if (!sh_vknown(t[i])) {
			t[i] = sh_v_to_dim(t[i]);
		} else if (t[i].value == 0 && !allowzero) {
			t[i] = x && i < x->rank ? x->dims[i] : SH_UNK;
		} else if (t[i].value == -1 && minus < 0) {
			minus = i;
			t[i] = SH_UNK;
		} else if (t[i].value < 0) {
			sh_warn(c, "Reshape target has the invalid size %lld", (long long)t[i].value);
			return sh_set(c, 0, dt, n, NULL);
		}
	}
	if (minus >= 0 && x && x->rank >= 0)
		t[minus] = solve_minus_one(x, t, n, minus);
	/* an impossible Reshape: every size known and the counts differ */
	struct od_dim pin = sh_d(1), pout = sh_d(1);
	for (int i = 0; x && i < x->rank; i++)
		pin = sh_dim_mul(pin, x->dims[i]);
	for (int i = 0; i < n; i++)
		pout = sh_dim_mul(pout, t[i]);
	if (x && x->rank >= 0 && sh_known(pin) && sh_known(pout) && pin.value != pout.value) {
		char a[256];
		sh_warn(c, "cannot reshape %s (%lld elements) to %lld elements", od_shape_text(x, a, sizeof a),
		        (long long)pin.value, (long long)pout.value);
		return sh_set(c, 0, dt, n, NULL);
	}
	int rc = sh_set(c, 0, dt, n, t);
	return rc ? rc : keep_value(c);
}

int sh_op_flatten(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0);
	int64_t axis = sh_attr_i(c, "axis", 1);
	if (r < 0)
		return sh_set(c, 0, x ? x->dtype : 0, 2, NULL);
	if (axis < 0)
		axis += r;
	if (axis < 0 || axis > r) {
		sh_warn(c, "axis %lld out of range for rank %d", (long long)sh_attr_i(c, "axis", 1), r);
		return sh_set(c, 0, x->dtype, 2, NULL);
	}
	struct od_dim d[2] = {sh_d(1), sh_d(1)};
	for (int i = 0; i < r; i++)
		d[i >= axis] = sh_dim_mul(d[i >= axis], x->dims[i]);
	return sh_set(c, 0, x->dtype, 2, d);
}

static int axes_arg(struct sh_call *c, int64_t *axes, size_t *n)
{
	return sh_ints_arg(c, "axes", 1, axes, MAXR, n);
}

int sh_op_squeeze(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = x ? x->dtype : 0;
	int64_t axes[MAXR];
	size_t na = 0;
	int got = axes_arg(c, axes, &na);
	if (r < 0 || got < 0)
		return sh_set(c, 0, dt, -1, NULL);
	bool drop[MAXR] = {0};
	for (size_t i = 0; got && i < na; i++) {
		if (!sh_axis(c, &axes[i], r))
			return sh_set(c, 0, dt, -1, NULL);
		if (sh_known(x->dims[axes[i]]) && x->dims[axes[i]].value != 1)
			sh_warn(c, "cannot squeeze axis %lld of size %lld", (long long)axes[i],
			        (long long)x->dims[axes[i]].value);
		drop[axes[i]] = true;
	}
	for (int i = 0; !got && i < r; i++) {
		if (!sh_known(x->dims[i]))
			return sh_set(c, 0, dt, -1, NULL);
		drop[i] = x->dims[i].value == 1;
	}
	struct od_dim d[MAXR];
	int k = 0;
	for (int i = 0; i < r; i++)
		if (!drop[i])
			d[k++] = x->dims[i];
	int rc = sh_set(c, 0, dt, k, d);
	return rc ? rc : keep_value(c);
}

int sh_op_unsqueeze(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = x ? x->dtype : 0;
	int64_t axes[MAXR];
	size_t na = 0;
	if (axes_arg(c, axes, &na) != 1 || r < 0)
		return sh_set(c, 0, dt, r >= 0 && na ? r + (int)na : -1, NULL);
	int out = r + (int)na;
	if (out > MAXR)
		return sh_set(c, 0, dt, out, NULL);
	bool ins[MAXR] = {0};
	for (size_t i = 0; i < na; i++) {
		if (!sh_axis(c, &axes[i], out))
			return sh_set(c, 0, dt, -1, NULL);
		ins[axes[i]] = true;
	}
	struct od_dim d[MAXR];
	for (int i = 0, k = 0; i < out; i++)
		d[i] = ins[i] ? sh_d(1) : k < r ? x->dims[k++] : SH_UNK;
	int rc = sh_set(c, 0, dt, out, d);
	return rc ? rc : keep_value(c);
}

int sh_op_transpose(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = x ? x->dtype : 0;
	size_t np;
	const int64_t *perm = sh_attr_ints(c, "perm", &np);
	if (r < 0)
		return sh_set(c, 0, dt, perm ? (int)np : -1, NULL);
	if (perm && (int)np != r) {
		sh_warn(c, "perm has %zu entries for rank %d", np, r);
		return sh_set(c, 0, dt, -1, NULL);
	}
	struct od_dim d[MAXR];
	for (int i = 0; i < r; i++) {
		int64_t p = perm ? perm[i] : r - 1 - i;
		if (p < 0 || p >= r)
			return sh_set(c, 0, dt, r, NULL);
		d[i] = x->dims[p];
	}
	return sh_set(c, 0, dt, r, d);
}

int sh_op_concat(struct sh_call *c)
{
	int r = -1, dt = 0;
	for (size_t i = 0; i < c->nin; i++) {
		if (sh_in_rank(c, i) >= 0)
			r = sh_in_rank(c, i);
		dt = dt ? dt : sh_in_dtype(c, i);
	}
	int64_t axis = sh_attr_i(c, "axis", 0);
	if (r < 0 || !sh_axis(c, &axis, r))
		return sh_set(c, 0, dt, r, NULL);
	struct od_dim d[MAXR], sum = sh_d(0);
	for (int k = 0; k < r; k++)
		d[k] = SH_UNK;
	for (size_t i = 0; i < c->nin; i++) {
		const struct od_shape *v = sh_in(c, i);
		if (!v || v->rank < 0) {
			sum = SH_UNK;
			continue;
		}
		if (v->rank != r) {
			sh_warn(c, "inputs have ranks %d and %d", r, v->rank);
			return sh_set(c, 0, dt, -1, NULL);
		}
		for (int k = 0; k < r; k++)
			if (k != axis && !sh_known(d[k]) && (sh_known(v->dims[k]) || (v->dims[k].param && !d[k].param)))
				d[k] = v->dims[k];
		int64_t total = 0;
		bool both = sh_known(sum) && sh_known(v->dims[axis]);
		bool over = both && sh_add(sum.value, v->dims[axis].value, &total);
		sum = both ? sh_ck(over, total) :
		      sh_known(v->dims[axis]) && v->dims[axis].value == 0 ? sum :
		      sh_known(sum) && sum.value == 0 && c->nin == 1 ? v->dims[axis] : SH_UNK;
	}
	d[axis] = sum;
	int rc = sh_set(c, 0, dt, r, d);
	if (rc || r != 1)
		return rc;
	struct od_dim v[64];
	size_t n = 0;
	for (size_t i = 0; i < c->nin; i++) {
		const struct od_shape *x = sh_in(c, i);
		if (!x || x->n_value < 0 || n + (size_t)x->n_value > 64)
			return 0;
		memcpy(v + n, x->value, (size_t)x->n_value * sizeof *v);
		n += (size_t)x->n_value;
	}
	return sh_value(c, 0, n, v);
}

int sh_op_split(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = x ? x->dtype : 0, rc = 0;
	int64_t axis = sh_attr_i(c, "axis", 0), split[256];
	size_t ns = 0;
	int got = c->nout <= 256 ? sh_ints_arg(c, "split", 1, split, 256, &ns) : -1;
	if (r < 0 || !sh_axis(c, &axis, r) || got < 0 || (got && ns != c->nout)) {
		for (size_t o = 0; !rc && o < c->nout; o++)
			rc = sh_set(c, o, dt, r, NULL);
		return rc;
	}
	struct od_dim d[MAXR], whole = x->dims[axis];
	memcpy(d, x->dims, (size_t)r * sizeof *d);
	int64_t n = (int64_t)c->nout;
	int64_t chunk = sh_known(whole) ? whole.value / n + (whole.value % n != 0) : -1;
	for (size_t o = 0; !rc && o < c->nout; o++) {
		if (got)
			d[axis] = sh_d(split[o]);
		else if (chunk >= 0)
			d[axis] = sh_d((int64_t)o + 1 < n ? chunk : whole.value - chunk * (n - 1));
		else
			d[axis] = SH_UNK;
		if (d[axis].value < -1)
			d[axis] = SH_UNK;
		rc = sh_set(c, o, dt, r, d);
	}
	return rc;
}

/* Start and length of a slice of a dim of size dim (numpy rules). */
static int64_t slice_len(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first)
{
	if (start < 0)
		start += dim;
	if (end < 0)
		end += dim;
	if (step > 0) {
		start = start < 0 ? 0 : start > dim ? dim : start;
		end = end < 0 ? 0 : end > dim ? dim : end;
		*first = start;
		return end > start ? 1 + (end - start - 1) / step : 0;
	}
	start = start < 0 ? -1 : start > dim - 1 ? dim - 1 : start;
	end = end < -1 ? -1 : end > dim - 1 ? dim - 1 : end;
	*first = start;       /* (a step of INT64_MIN takes one element, as INT64_MAX does) */
	return start > end ? 1 + (start - end - 1) / (step == INT64_MIN ? INT64_MAX : -step) : 0;
}

int sh_op_slice(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = x ? x->dtype : 0;
	int64_t st[MAXR], en[MAXR], ax[MAXR], sp[MAXR];
	size_t ns, ne, na = 0, np = 0;
	bool attrs = c->nin == 1;
	if (r < 0)
		return sh_set(c, 0, dt, -1, NULL);
	if (sh_ints_arg(c, attrs ? "starts" : NULL, 1, st, MAXR, &ns) != 1 ||
	    sh_ints_arg(c, attrs ? "ends" : NULL, 2, en, MAXR, &ne) != 1 || ns != ne ||
	    sh_ints_arg(c, attrs ? "axes" : NULL, 3, ax, MAXR, &na) < 0 ||
	    sh_ints_arg(c, NULL, 4, sp, MAXR, &np) < 0 || (na && na != ns) || (np && np != ns))
		return sh_set(c, 0, dt, r, NULL);
	struct od_dim d[MAXR];
	int64_t first[MAXR] = {0}, step[MAXR];
	memcpy(d, x->dims, (size_t)r * sizeof *d);
	for (int i = 0; i < r; i++)
		step[i] = 1;
	for (size_t i = 0; i < ns; i++) {
		int64_t a = na ? ax[i] : (int64_t)i, s = np ? sp[i] : 1;
		if (!sh_axis(c, &a, r) || s == 0)
			return sh_set(c, 0, dt, r, NULL);
		step[a] = s;
		if (sh_known(x->dims[a]))
			d[a] = sh_d(slice_len(x->dims[a].value, st[i], en[i], s, &first[a]));
		else if (!(st[i] == 0 && s == 1 && en[i] >= INT32_MAX))
			d[a] = SH_UNK;
	}
	int rc = sh_set(c, 0, dt, r, d);
	if (rc || r != 1 || x->n_value < 0 || !sh_known(d[0]) || x->n_value != x->dims[0].value)
		return rc;
	struct od_dim v[64];
	for (int64_t i = 0; i < d[0].value && i < 64; i++)
		v[i] = x->value[first[0] + i * step[0]];
	return sh_value(c, 0, (size_t)d[0].value, v);
}

int sh_op_gather(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0), *ix = sh_in(c, 1);
	int r = sh_in_rank(c, 0), q = sh_in_rank(c, 1), dt = x ? x->dtype : 0;
	int64_t axis = sh_attr_i(c, "axis", 0);
	if (r < 0 || q < 0 || !sh_axis(c, &axis, r))
		return sh_set(c, 0, dt, r >= 0 && q >= 0 ? r + q - 1 : -1, NULL);
	struct od_dim d[2 * MAXR];
	int k = 0;
	for (int i = 0; i < axis; i++)
		d[k++] = x->dims[i];
	for (int i = 0; i < q; i++)
		d[k++] = ix->dims[i];
	for (int i = (int)axis + 1; i < r; i++)
		d[k++] = x->dims[i];
	int rc = sh_set(c, 0, dt, k, d);
	if (rc || r != 1 || q > 1 || x->n_value < 0 || ix->n_value < 0)
		return rc;
	struct od_dim v[64];
	for (int i = 0; i < ix->n_value; i++) {
		int64_t j = ix->value[i].value;
		if (!sh_vknown(ix->value[i]) || j < -x->n_value || j >= x->n_value) {
			if (sh_vknown(ix->value[i]))
				sh_warn(c, "index %lld out of range for %d elements", (long long)j, x->n_value);
			return 0;
		}
		v[i] = x->value[j < 0 ? j + x->n_value : j];
	}
	return sh_value(c, 0, (size_t)ix->n_value, v);
}

int sh_op_gather_elements(struct sh_call *c)
{
	return sh_same(c, 0, sh_in(c, 1), sh_in_dtype(c, 0));
}

int sh_op_gather_nd(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0), *ix = sh_in(c, 1);
	int r = sh_in_rank(c, 0), q = sh_in_rank(c, 1), dt = x ? x->dtype : 0;
	int64_t b = sh_attr_i(c, "batch_dims", 0);
	if (r < 0 || q < 1 || !sh_known(ix->dims[q - 1]) || b + ix->dims[q - 1].value > r)
		return sh_set(c, 0, dt, -1, NULL);
	struct od_dim d[2 * MAXR];
	int k = 0;
	for (int i = 0; i < q - 1; i++)
		d[k++] = ix->dims[i];
	for (int64_t i = b + ix->dims[q - 1].value; i < r; i++)
		d[k++] = x->dims[i];
	return sh_set(c, 0, dt, k, d);
}

/* Dims given by the value of input i (a shape tensor): rank from its length. */
static int shape_input(const struct sh_call *c, size_t i, struct od_dim *d, int *n)
{
	const struct od_shape *s = sh_in(c, i);
	if (s && s->n_value >= 0 && s->n_value <= MAXR) {
		*n = s->n_value;
		for (int k = 0; k < *n; k++)
			d[k] = sh_v_to_dim(s->value[k]);
		return 1;
	}
	*n = s && s->rank == 1 && sh_known(s->dims[0]) && s->dims[0].value <= MAXR ? (int)s->dims[0].value : -1;
	for (int k = 0; k < *n; k++)
		d[k] = SH_UNK;
	return 0;
}

int sh_op_expand(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), n, dt = x ? x->dtype : 0;
	struct od_dim t[MAXR], d[MAXR];
	bool bad = false;
	shape_input(c, 1, t, &n);
	if (n < 0 || r < 0)
		return sh_set(c, 0, dt, -1, NULL);
	int out = r > n ? r : n;
	for (int i = 0; i < out; i++) {
		struct od_dim a = i - (out - r) >= 0 ? x->dims[i - (out - r)] : sh_d(1);
		struct od_dim b = i - (out - n) >= 0 ? t[i - (out - n)] : sh_d(1);
		/* an unknown target dim may be 1, which keeps the input's */
		if (sh_known(b) || b.param)
			d[i] = sh_dim_bcast(a, b, &bad);
		else
			d[i] = sh_known(a) && a.value != 1 ? a : SH_UNK;
	}
	if (bad)
		sh_warn(c, "cannot expand to the given shape");
	return sh_set(c, 0, dt, out, d);
}

int sh_op_tile(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = x ? x->dtype : 0;
	int64_t rep[MAXR];
	size_t n;
	if (r < 0 || !sh_in_ints(c, 1, rep, MAXR, &n) || (int)n != r)
		return sh_set(c, 0, dt, r, NULL);
	struct od_dim d[MAXR];
	for (int i = 0; i < r; i++)
		d[i] = sh_dim_mul(x->dims[i], sh_d(rep[i]));
	return sh_set(c, 0, dt, r, d);
}

int sh_op_pad(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = x ? x->dtype : 0;
	int64_t pads[2 * MAXR], axes[MAXR];
	size_t np, na = 0;
	bool attr = c->nin < 2;
	if (r < 0 || sh_ints_arg(c, attr ? "pads" : NULL, 1, pads, 2 * MAXR, &np) != 1 ||
	    sh_ints_arg(c, NULL, 3, axes, MAXR, &na) < 0)
		return sh_set(c, 0, dt, r, NULL);
	if (!na)
		for (int i = 0; i < r; i++)
			axes[na++] = i;
	if (np != 2 * na) {
		sh_warn(c, "%zu pads for %zu axes", np, na);
		return sh_set(c, 0, dt, r, NULL);
	}
	struct od_dim d[MAXR];
	memcpy(d, x->dims, (size_t)r * sizeof *d);
	for (size_t i = 0; i < na; i++) {
		int64_t a = axes[i], add = 0, v = 0;
		bool over = sh_add(pads[i], pads[i + na], &add);
		if (!sh_axis(c, &a, r))
			return sh_set(c, 0, dt, r, NULL);
		if (sh_known(d[a]))
			over = over || sh_add(d[a].value, add, &v);
		d[a] = sh_known(d[a]) ? sh_ck(over, v) : !over && add == 0 ? d[a] : SH_UNK;
	}
	return sh_set(c, 0, dt, r, d);
}

int sh_op_constant(struct sh_call *c)
{
	const struct od_attr *a = c->n->n_attrs ? &c->n->attrs[0] : NULL;
	if (!a)
		return 0;
	struct od_dim n = sh_d((int64_t)a->n);
	switch (a->type) {
	case OD_ATTR_TENSOR: {
		struct od_dim d[MAXR];
		for (int i = 0; a->t && i < a->t->ndims && i < MAXR; i++)
			d[i] = sh_d(a->t->dims[i]);
		return a->t ? sh_set(c, 0, a->t->dtype, a->t->ndims, d) : 0;
	}
	case OD_ATTR_INT: return sh_set(c, 0, OD_INT64, 0, NULL);
	case OD_ATTR_FLOAT: return sh_set(c, 0, OD_FLOAT, 0, NULL);
	case OD_ATTR_STRING: return sh_set(c, 0, OD_STRING, 0, NULL);
	case OD_ATTR_INTS: return sh_set(c, 0, OD_INT64, 1, &n);
	case OD_ATTR_FLOATS: return sh_set(c, 0, OD_FLOAT, 1, &n);
	case OD_ATTR_STRINGS: return sh_set(c, 0, OD_STRING, 1, &n);
	default: return 0;
	}
}

int sh_op_constant_of_shape(struct sh_call *c)
{
	const struct od_attr *v = od_node_attr(c->n, "value");
	int dt = v && v->type == OD_ATTR_TENSOR && v->t ? v->t->dtype : OD_FLOAT, n;
	struct od_dim d[MAXR];
	shape_input(c, 0, d, &n);
	return sh_set(c, 0, dt, n, d);
}

int sh_op_range(struct sh_call *c)
{
	return sh_set(c, 0, sh_in_dtype(c, 0), 1, NULL);
}

int sh_op_onehot(struct sh_call *c)
{
	const struct od_shape *ix = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = sh_in_dtype(c, 2);
	int64_t axis = sh_attr_i(c, "axis", -1), depth;
	size_t n;
	if (r < 0 || r + 1 > MAXR || !sh_axis(c, &axis, r + 1))
		return sh_set(c, 0, dt, r < 0 ? -1 : r + 1, NULL);
	struct od_dim d[MAXR];
	for (int i = 0, k = 0; i <= r; i++)
		d[i] = i == axis ? SH_UNK : ix->dims[k++];
	if (sh_in_ints(c, 1, &depth, 1, &n) && n == 1 && depth >= 0)
		d[axis] = sh_d(depth);
	return sh_set(c, 0, dt, r + 1, d);
}

int sh_op_nonzero(struct sh_call *c)
{
	int r = sh_in_rank(c, 0);
	struct od_dim d[2] = {r >= 0 ? sh_d(r) : SH_UNK, SH_UNK};
	return sh_set(c, 0, OD_INT64, 2, d);
}

int sh_op_topk(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = x ? x->dtype : 0;
	int64_t axis = sh_attr_i(c, "axis", -1), k = sh_attr_i(c, "k", -1);
	size_t n;
	if (r < 0 || !sh_axis(c, &axis, r)) {
		int rc = sh_set(c, 0, dt, r, NULL);
		return rc ? rc : sh_set(c, 1, OD_INT64, r, NULL);
	}
	struct od_dim d[MAXR];
	memcpy(d, x->dims, (size_t)r * sizeof *d);
	if (c->nin > 1 && !(sh_in_ints(c, 1, &k, 1, &n) && n == 1))
		k = -1;
	d[axis] = k >= 0 ? sh_d(k) : SH_UNK;
	int rc = sh_set(c, 0, dt, r, d);
	return rc ? rc : sh_set(c, 1, OD_INT64, r, d);
}

/* Resize / Upsample: sizes when given, else floor(dim * scale) for static dims. */
static int resize_with(struct sh_call *c, size_t scales_in, size_t sizes_in)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = x ? x->dtype : 0, n;
	struct od_dim d[MAXR], t[MAXR];
	int64_t axes[MAXR];
	size_t na = 0;
	const int64_t *ax = sh_attr_ints(c, "axes", &na);
	if (r < 0)
		return sh_set(c, 0, dt, -1, NULL);
	if (ax)
		memcpy(axes, ax, na * sizeof *axes);
	else
		for (int i = 0; i < r; i++)
			axes[na++] = i;
	memcpy(d, x->dims, (size_t)r * sizeof *d);
	const struct od_shape *sz = sizes_in ? sh_in(c, sizes_in) : NULL;
	const struct od_shape *sc = scales_in ? sh_in(c, scales_in) : NULL;
	if (sz && shape_input(c, sizes_in, t, &n) && (size_t)n == na) {
		for (size_t i = 0; i < na; i++)
			d[axes[i] < 0 ? axes[i] + r : axes[i]] = t[i];
		return sh_set(c, 0, dt, r, d);
	}
	const struct od_tensor *s = sc ? sc->constant : NULL;
	size_t ns = 0;
	const float *fs = NULL;
	if (s && s->dtype == OD_FLOAT && s->data)
		fs = s->data, ns = (size_t)s->numel;
	else if (!sc) {
		const struct od_attr *a = od_node_attr(c->n, "scales");
		if (a && a->type == OD_ATTR_FLOATS)
			fs = a->floats, ns = a->n;
	}
	if (!fs || ns != na) {
		for (size_t i = 0; i < na; i++)
			d[axes[i] < 0 ? axes[i] + r : axes[i]] = SH_UNK;
		return sh_set(c, 0, dt, r, d);
	}
	for (size_t i = 0; i < na; i++) {
		int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
		if (a < 0 || a >= r)
			return sh_set(c, 0, dt, r, NULL);
		double v = sh_known(d[a]) ? floor((double)d[a].value * fs[i]) : -1;
		d[a] = sh_known(d[a]) ? (v >= 0 && v < 0x1p62 ? sh_d((int64_t)v) : SH_UNK) :
		       fs[i] == 1.0f ? d[a] : SH_UNK;
	}
	return sh_set(c, 0, dt, r, d);
}

int sh_op_resize(struct sh_call *c)
{
	if (c->nin == 2 && c->opset < 11)
		return resize_with(c, 1, 0);
	return resize_with(c, c->nin > 2 ? 2 : 0, c->nin > 3 ? 3 : 0);
}

int sh_op_upsample(struct sh_call *c)
{
	return resize_with(c, c->nin > 1 ? 1 : 0, 0);
}

static int space_depth(struct sh_call *c, bool to_space)
{
	const struct od_shape *x = sh_in(c, 0);
	int dt = x ? x->dtype : 0;
	int64_t b = sh_attr_i(c, "blocksize", 1);
	if (sh_in_rank(c, 0) != 4 || b <= 0)
		return sh_set(c, 0, dt, 4, NULL);
	struct od_dim d[4] = {x->dims[0], SH_UNK, SH_UNK, SH_UNK};
	int64_t bb = 0, v = 0;
	bool over = sh_mul(b, b, &bb);
	if (sh_known(x->dims[1]) && to_space)
		d[1] = over ? sh_d(0) : sh_d(x->dims[1].value / bb);
	else if (sh_known(x->dims[1])) {
		over = over || sh_mul(x->dims[1].value, bb, &v);
		d[1] = sh_ck(over, v);
	}
	for (int i = 2; i < 4; i++) {
		if (!sh_known(x->dims[i]))
			continue;
		if (to_space) {
			over = sh_mul(x->dims[i].value, b, &v);
			d[i] = sh_ck(over, v);
		} else {
			d[i] = sh_d(x->dims[i].value / b);
		}
	}
	return sh_set(c, 0, dt, 4, d);
}

int sh_op_depth_to_space(struct sh_call *c)
{
	return space_depth(c, true);
}

int sh_op_space_to_depth(struct sh_call *c)
{
	return space_depth(c, false);
}

int sh_op_compress(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = x ? x->dtype : 0;
	int64_t axis = sh_attr_i(c, "axis", INT64_MIN);
	if (axis == INT64_MIN || r < 0)
		return sh_set(c, 0, dt, axis == INT64_MIN ? 1 : -1, NULL);
	if (!sh_axis(c, &axis, r))
		return sh_set(c, 0, dt, r, NULL);
	struct od_dim d[MAXR];
	memcpy(d, x->dims, (size_t)r * sizeof *d);
	d[axis] = SH_UNK;
	return sh_set(c, 0, dt, r, d);
}

int sh_op_unique(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = x ? x->dtype : 0, rc;
	int64_t axis = sh_attr_i(c, "axis", INT64_MIN);
	if (axis == INT64_MIN || r < 0 || !sh_axis(c, &axis, r)) {
		rc = sh_set(c, 0, dt, axis == INT64_MIN ? 1 : r, NULL);
	} else {
		struct od_dim d[MAXR];
		memcpy(d, x->dims, (size_t)r * sizeof *d);
		d[axis] = SH_UNK;
		rc = sh_set(c, 0, dt, r, d);
	}
	for (size_t o = 1; !rc && o < 4; o++)
		rc = sh_set(c, o, OD_INT64, 1, NULL);
	return rc;
}

int sh_op_eyelike(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	return sh_same(c, 0, x, (int)sh_attr_i(c, "dtype", x ? x->dtype : 0));
}

int sh_op_reverse_seq(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	return sh_same(c, 0, x, x ? x->dtype : 0);
}
