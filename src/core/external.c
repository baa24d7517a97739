/*
 * external.c — the model's lifetime and its external data: side files named by
 * TensorProto.external_data are confined to the model's folder (no absolute paths, no
 * "..", no symlink that leads out: ONNX itself had CVE-2022-25882 here) and mapped lazily.
 */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "model_priv.h"

char *od_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

int od_model_alloc(const char *name, const char *dir, struct od_model **out, struct od_ctx *ctx)
{
	struct od_arena *a = od_arena_new();
	struct od_model *m = a ? od_arena_alloc(a, sizeof *m) : NULL;
	struct model_priv *priv = m ? od_arena_alloc(a, sizeof *priv) : NULL;
	if (!priv) {
		od_arena_free(a);
		return od_error(ctx, OD_ENOMEM, "out of memory");
	}
	m->arena = a;
	m->priv = priv;
	priv->fd = -1;
	m->path = od_arena_strdup(a, name ? name : "");
	priv->dir = dir ? od_arena_strdup(a, dir) : NULL;
	if (!m->path || (dir && !priv->dir)) {
		od_arena_free(a);
		return od_error(ctx, OD_ENOMEM, "out of memory");
	}
	*out = m;
	return 0;
}

void od_model_free(struct od_model *m)
{
	if (!m)
		return;
	struct model_priv *priv = m->priv;
	for (struct ext_file *e = priv->ext; e; e = e->next) {
		if (e->map)
			munmap(e->map, e->len);
		if (e->fd >= 0)
			close(e->fd);
	}
	if (priv->fd >= 0)
		close(priv->fd);
	od_map_done(&priv->by_loc);
	od_map_done(&priv->by_id);
	if (priv->map)
		munmap(priv->map, priv->map_len);
	od_arena_free(m->arena);
}

/* A location is safe when it is relative, has no ".." part, and resolves inside dir. */
static int check_location(const char *dir, const char *loc, char *resolved, struct od_ctx *ctx)
{
	char root[PATH_MAX], joined[PATH_MAX * 2];
	if (!*loc)
		return od_error(ctx, OD_EUNSAFE, "external data location is empty");
	if (loc[0] == '/')
		return od_error(ctx, OD_EUNSAFE, "external data location '%s' is absolute", loc);
	for (const char *p = loc; *p; ) {
		size_t n = strcspn(p, "/\\");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return od_error(ctx, OD_EUNSAFE, "external data location '%s' leaves the model's folder", loc);
		p += n;
		p += *p != 0;
	}
	if (!realpath(dir, root))
		return od_error(ctx, OD_EIO, "cannot resolve folder '%s': %s", dir, strerror(errno));
	snprintf(joined, sizeof joined, "%s/%s", dir, loc);
	if (!realpath(joined, resolved))
		return od_error(ctx, OD_EIO, "cannot open external data '%s': %s", loc, strerror(errno));
	size_t n = strlen(root);
	if (strcmp(root, "/") && (strncmp(resolved, root, n) || resolved[n] != '/'))
		return od_error(ctx, OD_EUNSAFE, "external data location '%s' leads out of the model's folder", loc);
	return 0;
}

/* Opens the side file loc names, confined to the model's folder: a regular file, read-only. */
static int open_side_file(const char *dir, const char *loc, int *fd, struct stat *st,
                          struct od_ctx *ctx)
{
	char resolved[PATH_MAX];
	int rc = check_location(dir, loc, resolved, ctx);
	if (rc)
		return rc;
	*fd = open(resolved, O_RDONLY | O_CLOEXEC | O_NONBLOCK);  /* a fifo must not hang us */
	if (*fd < 0 || fstat(*fd, st) || !S_ISREG(st->st_mode)) {
		int err = *fd < 0 ? errno : EINVAL;
		if (*fd >= 0)
			close(*fd);
		return od_error(ctx, OD_EIO, "cannot open external data '%s': %s", loc,
		                err == EINVAL ? "not a regular file" : strerror(err));
	}
	return 0;
}

/* A new mapping of the side file open on fd, recorded under its identity. The first
 * SOURCE_FDS side files stay open: hashing reads them with pread() (od_model_sources()). */
#define SOURCE_FDS 64

static int add_side_file(struct od_model *m, const char *loc, int *fd, const struct stat *st,
                         const char *id, struct ext_file **out, struct od_ctx *ctx)
{
	struct model_priv *priv = m->priv;
	struct ext_file *e = od_arena_alloc(m->arena, sizeof *e);
	if (!e || !(e->location = od_arena_strdup(m->arena, loc)) ||
	    od_map_put(&priv->by_id, id, (uintptr_t)e) < 0)
		return od_error(ctx, OD_ENOMEM, "out of memory");
	e->fd = -1;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->len = (size_t)st->st_size;
	e->map = e->len ? mmap(NULL, e->len, PROT_READ, MAP_PRIVATE, *fd, 0) : NULL;
	if (e->map == MAP_FAILED)
		return od_error(ctx, OD_EIO, "cannot map external data '%s': %s", loc, strerror(errno));
	if (e->len && priv->n_fds < SOURCE_FDS) {
		e->fd = *fd;
		*fd = -1;
		priv->n_fds++;
	}
	e->next = priv->ext;
	priv->ext = e;
	*out = e;
	return 0;
}

/* The mapping of the side file loc names. Each spelling is checked and opened once, and
 * each file (st_dev, st_ino) mapped once: N spellings of one location ("a", "./a", ".//a")
 * cost N opens and one mapping, found through two hash maps, where a list of side files
 * with a mapping each made 60k spellings take a minute. */
static int map_side_file(struct od_model *m, const char *loc, struct ext_file **out, struct od_ctx *ctx)
{
	struct model_priv *priv = m->priv;
	size_t v;
	if ((!priv->by_loc.cap && od_map_init(&priv->by_loc, 16)) ||
	    (!priv->by_id.cap && od_map_init(&priv->by_id, 16)))
		return od_error(ctx, OD_ENOMEM, "out of memory");
	if (od_map_get(&priv->by_loc, loc, &v)) {
		*out = (struct ext_file *)(uintptr_t)v;
		return 0;
	}
	int fd;
	struct stat st;
	int rc = open_side_file(priv->dir, loc, &fd, &st, ctx);
	if (rc)
		return rc;
	char *id = od_arena_printf(m->arena, "%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
	if (!id)
		rc = od_error(ctx, OD_ENOMEM, "out of memory");
	else if (od_map_get(&priv->by_id, id, &v))
		*out = (struct ext_file *)(uintptr_t)v;
	else
		rc = add_side_file(m, loc, &fd, &st, id, out, ctx);
	if (fd >= 0)
		close(fd);
	const char *key = rc ? NULL : od_arena_strdup(m->arena, loc);
	if (!rc && (!key || od_map_put(&priv->by_loc, key, (uintptr_t)*out) < 0))
		rc = od_error(ctx, OD_ENOMEM, "out of memory");
	return rc;
}

int od_model_sources(const struct od_model *m, struct od_source **v, size_t *n, size_t *cap)
{
	const struct model_priv *priv = m ? m->priv : NULL;
	if (!priv)
		return 0;
	for (const struct ext_file *e = priv->ext; ; e = e->next) {
		struct od_source s = e ? (struct od_source){e->map, e->len, e->fd}
		                       : (struct od_source){priv->map, priv->map_len, priv->fd};
		if (s.fd >= 0 && s.base) {
			if (*n == *cap) {
				size_t nc = *cap ? *cap * 2 : 8;
				struct od_source *p = od_realloc(*v, nc * sizeof *p);
				if (!p)
					return OD_ENOMEM;
				*v = p;
				*cap = nc;
			}
			(*v)[(*n)++] = s;
		}
		if (!e)
			return 0;
	}
}

int od_source_find(const struct od_source *v, size_t n, const void *p, size_t len, off_t *off)
{
	uintptr_t q = (uintptr_t)p;
	for (size_t i = 0; p && i < n; i++) {
		uintptr_t b = (uintptr_t)v[i].base;
		if (q >= b && q - b <= v[i].len && len <= v[i].len - (q - b)) {
			*off = (off_t)(q - b);
			return v[i].fd;
		}
	}
	return -1;
}

/* A plain decimal: digits only (strtoll alone takes " 0", "+0" and "-0"). */
static int parse_i64(const char *s, int64_t *v)
{
	char *end;
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return -1;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || end == s || *end || x < 0)
		return -1;
	*v = x;
	return 0;
}

int od_external_resolve(struct od_model *m, const Onnx__TensorProto *tp, struct od_tensor *t,
                        bool no_external, struct od_ctx *ctx)
{
	struct model_priv *priv = m->priv;
	struct od_external *x = od_arena_alloc(m->arena, sizeof *x);
	if (!x)
		return od_error(ctx, OD_ENOMEM, "out of memory");
	x->length = -1;
	for (size_t i = 0; i < tp->n_external_data; i++) {
		const char *k = tp->external_data[i]->key ? tp->external_data[i]->key : "";
		const char *v = tp->external_data[i]->value ? tp->external_data[i]->value : "";
		if (!strcmp(k, "location"))
			x->location = v;
		else if ((!strcmp(k, "offset") && parse_i64(v, &x->offset)) ||
		         (!strcmp(k, "length") && parse_i64(v, &x->length)))
			return od_error(ctx, OD_EFORMAT, "tensor '%s': bad external data %s '%s'", t->name, k, v);
	}
	t->ext = x;
	if (!x->location)
		return od_error(ctx, OD_EFORMAT, "tensor '%s': external data without a location", t->name);
	if (no_external)
		return 0;
	if (!priv->dir)
		return od_error(ctx, OD_EUNSAFE, "tensor '%s': external data is not allowed here", t->name);
	struct ext_file *e = NULL;
	int rc = map_side_file(m, x->location, &e, ctx);
	if (rc)
		return rc;
	int64_t len = x->length >= 0 ? x->length : (int64_t)e->len - x->offset;
	if (x->offset > (int64_t)e->len || len < 0 || len > (int64_t)e->len - x->offset)
		return od_error(ctx, OD_EFORMAT, "tensor '%s': external data at %lld+%lld is past the end of '%s' (%zu bytes)",
		                t->name, (long long)x->offset, (long long)len, x->location, e->len);
	t->data = len ? (const void *)((const uint8_t *)e->map + x->offset) : (const void *)"";
	t->nbytes = (size_t)len;
	return 0;
}
