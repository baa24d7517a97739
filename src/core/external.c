/*
 * external.c — the model's lifetime and its external data: side files named by
 * TensorProto.external_data are confined to the model's folder (no absolute paths, no
 * "..", no symlink that leads out: ONNX itself had CVE-2022-25882 here) and mapped lazily.
 * A location is opened beneath the folder's descriptor by the kernel (openat2 with
 * RESOLVE_BENEATH), never checked by name and opened afterwards: a folder swapped for a
 * symlink between the two would lead out.
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
#include <sys/syscall.h>
#include <unistd.h>
#ifdef HAVE_LINUX_OPENAT2_H
#include <linux/openat2.h>
#endif
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
		if (e->map && !e->borrowed)
			munmap(e->map, e->len);
		if (e->fd >= 0 && !e->borrowed)
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

/* A location must be relative and have no ".." part ("/" and "\\" both separate parts):
 * refused by its text before anything is opened. */
static int check_location(const char *loc, struct od_ctx *ctx)
{
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
	return 0;
}

/* Without openat2 (Linux before 5.6, or a seccomp filter): one component at a time with
 * O_NOFOLLOW, so no symlink is followed at all. */
static int open_walk(int dfd, const char *loc)
{
	char part[NAME_MAX + 1];
	int cur = dup(dfd);
	for (const char *p = loc; cur >= 0; ) {
		size_t n = strcspn(p, "/");
		bool last = !p[n];
		if (n > NAME_MAX) {
			close(cur);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(part, p, n);
		part[n] = 0;
		p += n + !last;
		if ((!n || !strcmp(part, ".")) && !last)
			continue;
		int next = openat(cur, n ? part : ".", O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
		                  (last ? O_NONBLOCK : O_DIRECTORY));
		int err = errno;
		struct stat st;
		if (next < 0 && !fstatat(cur, part, &st, AT_SYMLINK_NOFOLLOW) && S_ISLNK(st.st_mode))
			err = ELOOP;    /* O_DIRECTORY says ENOTDIR for a symlink */
		close(cur);
		errno = err;
		if (last || next < 0)
			return next;
		cur = next;
	}
	return -1;
}

static bool no_openat2(void)
{
#if defined(HAVE_LINUX_OPENAT2_H) && defined(SYS_openat2)
	return od_fault_env("ONNXDIFF_FAULT_NO_OPENAT2");
#else
	return true;
#endif
}

/* Opens loc beneath dfd: symlinks inside the folder are followed as long as they stay in it
 * (RESOLVE_BENEATH), magic links (/proc/self/fd/N) never. */
static int open_beneath(int dfd, const char *loc)
{
#if defined(HAVE_LINUX_OPENAT2_H) && defined(SYS_openat2)
	if (!no_openat2()) {
		struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
		                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
		long fd = syscall(SYS_openat2, dfd, loc, &how, sizeof how);
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return (int)fd;
	}
#endif
	return open_walk(dfd, loc);
}

/* Opens the side file loc names, confined to dir, and checks what was opened (fstat): a
 * regular file, read-only. */
static int open_side_file(const char *dir, const char *loc, int *fd, struct stat *st,
                          struct od_ctx *ctx)
{
	int rc = check_location(loc, ctx);
	if (rc)
		return rc;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return od_error(ctx, OD_EIO, "cannot resolve folder '%s': %s", dir, strerror(errno));
	*fd = open_beneath(dfd, loc);
	int err = errno;
	close(dfd);
	if (*fd < 0 && err == EXDEV)
		return od_error(ctx, OD_EUNSAFE, "external data location '%s' leads out of the model's folder", loc);
	if (*fd < 0 && err == ELOOP && no_openat2())
		return od_error(ctx, OD_EUNSAFE, "external data location '%s' is a symlink (not followed "
		                "without openat2)", loc);
	if (*fd < 0)
		return od_error(ctx, OD_EIO, "cannot open external data '%s': %s", loc, strerror(err));
	if (fstat(*fd, st) || !S_ISREG(st->st_mode)) {
		close(*fd);
		*fd = -1;
		return od_error(ctx, OD_EIO, "cannot open external data '%s': not a regular file", loc);
	}
	return 0;
}

/* A new side file record for loc under identity id (both kept), not linked yet. */
static struct ext_file *new_side_file(struct od_model *m, const char *loc, const char *id)
{
	struct model_priv *priv = m->priv;
	struct ext_file *e = od_arena_alloc(m->arena, sizeof *e);
	if (!e || !(e->location = od_arena_strdup(m->arena, loc)) ||
	    od_map_put(&priv->by_id, id, (uintptr_t)e) < 0)
		return NULL;
	e->fd = -1;
	return e;
}

static void link_side_file(struct model_priv *priv, struct ext_file *e, struct ext_file **out)
{
	e->next = priv->ext;
	priv->ext = e;
	*out = e;
}

/* A new mapping of the side file open on fd, recorded under its identity. The first
 * SOURCE_FDS side files stay open: hashing reads them with pread() (od_model_sources()). */
#define SOURCE_FDS 64

static int add_side_file(struct od_model *m, const char *loc, int *fd, const struct stat *st,
                         const char *id, struct ext_file **out, struct od_ctx *ctx)
{
	struct model_priv *priv = m->priv;
	struct ext_file *e = new_side_file(m, loc, id);
	if (!e)
		return od_error(ctx, OD_ENOMEM, "out of memory");
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
	link_side_file(priv, e, out);
	return 0;
}

/* The side file that from (od_load_opts.ext_from, a model of the same bytes) mapped for
 * loc, NULL when none. Its mapping and descriptor keep the bytes it read after the file
 * was replaced or removed: TUI undo after writing over A rebuilds A as it was. */
static const struct ext_file *lent_side_file(const struct od_model *from, const char *loc)
{
	const struct model_priv *p = from ? from->priv : NULL;
	size_t v;
	return p && od_map_get(&p->by_loc, loc, &v) ? (const struct ext_file *)(uintptr_t)v : NULL;
}

/* Shares lent's mapping and descriptor; from outlives m, and m neither unmaps nor closes them. */
static int borrow_side_file(struct od_model *m, const char *loc, const struct ext_file *lent,
                            const char *id, struct ext_file **out, struct od_ctx *ctx)
{
	struct ext_file *e = new_side_file(m, loc, id);
	if (!e)
		return od_error(ctx, OD_ENOMEM, "out of memory");
	*e = (struct ext_file){NULL, e->location, lent->map, lent->len, lent->dev, lent->ino, lent->fd, true};
	link_side_file(m->priv, e, out);
	return 0;
}

/* "dev:ino", the key of a file in by_id (arena). */
static char *side_id(struct od_model *m, dev_t dev, ino_t ino)
{
	return od_arena_printf(m->arena, "%ju:%ju", (uintmax_t)dev, (uintmax_t)ino);
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
	const struct ext_file *lent = lent_side_file(priv->ext_from, loc);
	int fd = -1;
	struct stat st;
	int rc = lent ? 0 : open_side_file(priv->dir, loc, &fd, &st, ctx);
	if (rc)
		return rc;
	char *id = lent ? side_id(m, lent->dev, lent->ino) : side_id(m, st.st_dev, st.st_ino);
	if (!id)
		rc = od_error(ctx, OD_ENOMEM, "out of memory");
	else if (od_map_get(&priv->by_id, id, &v))
		*out = (struct ext_file *)(uintptr_t)v;
	else if (lent)
		rc = borrow_side_file(m, loc, lent, id, out, ctx);
	else
		rc = add_side_file(m, loc, &fd, &st, id, out, ctx);
	if (fd >= 0)
		close(fd);
	const char *key = rc ? NULL : od_arena_strdup(m->arena, loc);
	if (!rc && (!key || od_map_put(&priv->by_loc, key, (uintptr_t)*out) < 0))
		rc = od_error(ctx, OD_ENOMEM, "out of memory");
	return rc;
}

/* Whether m reads the file of this identity: its own file (*is_model set) or a side file
 * (one hash lookup, however many side files). */
bool od_model_reads(const struct od_model *m, dev_t dev, ino_t ino, bool *is_model)
{
	const struct model_priv *priv = m->priv;
	char id[48];
	*is_model = priv->has_id && priv->dev == dev && priv->ino == ino;
	snprintf(id, sizeof id, "%ju:%ju", (uintmax_t)dev, (uintmax_t)ino);
	return *is_model || od_map_get(&priv->by_id, id, NULL);
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
