/*
 * eval_einsum.c — Einsum in its general form: the equation is parsed into one label per
 * dimension (letters, and "..." for broadcast dimensions), then one loop nest runs over
 * every label and adds each product of input elements into the output position its labels
 * name. Repeated labels in one term take diagonals; labels missing from the output are
 * summed. Correct for any equation, not fast: no exporter puts Einsum on a hot path that
 * MatMul would not serve.
 */
#include "config.h"
#include <ctype.h>
#include "eval_internal.h"

#define N_LETTERS 52                      /* a-z, A-Z */
#define N_LABELS (N_LETTERS + OD_MAX_RANK)  /* then the broadcast ("...") dimensions */
#define MAX_TERMS 16

struct term {
	int n;                      /* labels in the term, after expanding "..." */
	int lab[OD_MAX_RANK];       /* label of each dimension */
};

struct eq {
	int nin, nell;              /* inputs, broadcast dimensions of the widest input */
	struct term in[MAX_TERMS], out;
	int64_t size[N_LABELS];     /* -1 until some dimension names the label */
};

static int letter(int c)
{
	return islower(c) ? c - 'a' : isupper(c) ? 26 + c - 'A' : -1;
}

/* Parses one term from *p up to ',' '-' or the end; nd is the rank it must have (-1 for
 * the output, whose "..." takes all nell broadcast labels). */
static int parse_term(struct ev *e, const char **p, const char *end, int nd, int nell,
                      struct term *t)
{
	int lab[OD_MAX_RANK + 1], n = 0, ell = -1;
	const char *s = *p;
	for (; s < end && *s != ',' && *s != '-'; s++) {
		if (*s == ' ')
			continue;
		if (*s == '.') {
			if (ell >= 0 || end - s < 3 || s[1] != '.' || s[2] != '.')
				return ev_bad(e, "bad ellipsis in equation");
			ell = n;
			s += 2;
			continue;
		}
		if (letter(*s) < 0 || n == OD_MAX_RANK)
			return ev_bad(e, "bad label '%c' in equation", *s);
		lab[n++] = letter(*s);
	}
	*p = s;
	int k = ell < 0 ? 0 : nd < 0 ? nell : nd - n;   /* broadcast dimensions of this term */
	if ((nd >= 0 && (k < 0 || (ell < 0 && n != nd))) || n + k > OD_MAX_RANK)
		return ev_bad(e, "equation term does not match an input of rank %d", nd);
	t->n = 0;
	for (int i = 0; i <= n; i++) {
		if (i == ell)
			for (int j = 0; j < k; j++)
				t->lab[t->n++] = N_LETTERS + (nd < 0 ? 0 : nell - k) + j;
		if (i < n)
			t->lab[t->n++] = lab[i];
	}
	return 0;
}

/* Ranks of the "..." parts, so that they align from the right across inputs. */
static int count_ell(struct ev *e, const char *s, const char *end, int *nell)
{
	*nell = 0;
	for (int i = 0; i < (int)e->nin; i++) {
		int n = 0;
		bool ell = false;
		for (; s < end && *s != ',' && *s != '-'; s++)
			if (*s == '.')
				ell = true;
			else if (*s != ' ')
				n++;
		int k = ell ? e->in[i]->ndims - n : 0;
		*nell = k > *nell ? k : *nell;
		if (s < end && *s == ',')
			s++;
	}
	return 0;
}

/* Without "->": the broadcast labels, then the letters used once, in ASCII order. */
static void implicit_out(struct eq *q)
{
	int count[N_LABELS] = { 0 };
	for (int i = 0; i < q->nin; i++)
		for (int d = 0; d < q->in[i].n; d++)
			count[q->in[i].lab[d]]++;
	q->out.n = 0;
	for (int j = 0; j < q->nell; j++)
		q->out.lab[q->out.n++] = N_LETTERS + j;
	for (int c = 'A'; c <= 'z'; c++)
		if (letter(c) >= 0 && count[letter(c)] == 1 && q->out.n < OD_MAX_RANK)
			q->out.lab[q->out.n++] = letter(c);
}

static int parse(struct ev *e, struct eq *q)
{
	const struct od_attr *at = ev_attr(e, "equation", OD_ATTR_STRING);
	if (!at)
		return ev_bad(e, "attribute 'equation' is missing");
	if (e->nin > MAX_TERMS)
		return ev_unsup(e, "more than %d inputs not supported", MAX_TERMS);
	const char *s = (const char *)at->s.data, *end = s + at->s.len;
	int rc = count_ell(e, s, end, &q->nell);
	q->nin = (int)e->nin;
	for (int i = 0; !rc && i < q->nin; i++) {
		rc = parse_term(e, &s, end, e->in[i]->ndims, q->nell, &q->in[i]);
		if (!rc && i + 1 < q->nin && (s == end || *s++ != ','))
			rc = ev_bad(e, "equation names fewer terms than inputs");
	}
	if (rc)
		return rc;
	while (s < end && *s == ' ')
		s++;
	if (s == end) {
		implicit_out(q);
		return 0;
	}
	if (end - s < 2 || s[0] != '-' || s[1] != '>')
		return ev_bad(e, "equation names more terms than inputs");
	s += 2;
	if ((rc = parse_term(e, &s, end, -1, q->nell, &q->out)))
		return rc;
	return s == end ? 0 : ev_bad(e, "bad output term in equation");
}

/* Records each label's size; broadcast labels may be 1 in some inputs. */
static int sizes(struct ev *e, struct eq *q)
{
	for (int l = 0; l < N_LABELS; l++)
		q->size[l] = -1;
	for (int i = 0; i < q->nin; i++)
		for (int d = 0; d < q->in[i].n; d++) {
			int l = q->in[i].lab[d];
			int64_t v = e->in[i]->dims[d], *s = &q->size[l];
			if (*s < 0 || (l >= N_LETTERS && *s == 1))
				*s = v;
			else if (*s != v && !(l >= N_LETTERS && v == 1))
				return ev_bad(e, "label sizes disagree (%lld and %lld)", (long long)*s,
				              (long long)v);
		}
	for (int d = 0; d < q->out.n; d++)
		if (q->size[q->out.lab[d]] < 0)
			return ev_bad(e, "output label not found in the inputs");
	return 0;
}

/* Element stride of each label in a term's tensor (summed over repeats: a diagonal);
 * 0 for labels it lacks or broadcasts. */
static void label_strides(const struct term *t, const int64_t *dims, int64_t *st)
{
	int64_t s[OD_MAX_RANK];
	for (int l = 0; l < N_LABELS; l++)
		st[l] = 0;
	ev_strides(t->n, dims, s);
	for (int d = 0; d < t->n; d++)
		if (dims[d] != 1)
			st[t->lab[d]] += s[d];
}

int ev_k_einsum(struct ev *e)
{
	struct eq q;
	int64_t dims[OD_MAX_RANK], st[MAX_TERMS + 1][N_LABELS], off[MAX_TERMS + 1] = { 0 };
	int64_t idx[N_LABELS] = { 0 };
	int loop[N_LABELS], nl = 0;
	struct od_tensor *t;
	int rc = parse(e, &q);
	if (rc || (rc = sizes(e, &q)))
		return rc;
	for (int i = 1; i < q.nin; i++)
		if (e->in[i]->dtype != e->in[0]->dtype)
			return ev_bad(e, "inputs differ in dtype");
	for (int d = 0; d < q.out.n; d++)
		dims[d] = q.size[q.out.lab[d]];
	if ((rc = ev_new(e, 0, e->in[0]->dtype, q.out.n, dims, &t)))
		return rc;
	for (int i = 0; i < q.nin; i++)
		label_strides(&q.in[i], e->in[i]->dims, st[i]);
	label_strides(&q.out, dims, st[q.nin]);
	for (int l = 0; l < N_LABELS; l++)
		if (q.size[l] > 0)
			loop[nl++] = l;
		else if (q.size[l] == 0)
			return 0;           /* empty: the output (if any) stays zero */
	bool flt = ev_class(t->dtype) == EV_CF;
	double *accf = NULL;
	if (flt && !(accf = od_arena_alloc(e->a, (size_t)(t->numel ? t->numel : 1) * sizeof *accf)))
		return ev_err(e, OD_ENOMEM, "out of memory");
	for (int64_t i = 0; flt && i < t->numel; i++)
		accf[i] = 0;
	for (;;) {
		if (flt) {
			double p = 1;
			for (int i = 0; i < q.nin; i++)
				p *= ev_getf(e->in[i], off[i]);
			accf[off[q.nin]] += p;
		} else {
			uint64_t p = 1;
			for (int i = 0; i < q.nin; i++)
				p *= (uint64_t)ev_geti(e->in[i], off[i]);
			ev_seti(t, off[q.nin], (int64_t)((uint64_t)ev_geti(t, off[q.nin]) + p));
		}
		int k = nl - 1;
		for (; k >= 0; k--) {
			int l = loop[k];
			for (int i = 0; i <= q.nin; i++)
				off[i] += st[i][l];
			if (++idx[l] < q.size[l])
				break;
			for (int i = 0; i <= q.nin; i++)
				off[i] -= st[i][l] * q.size[l];
			idx[l] = 0;
		}
		if (k < 0)
			break;
	}
	for (int64_t i = 0; flt && i < t->numel; i++)
		ev_setf(t, i, accf[i]);
	return 0;
}
