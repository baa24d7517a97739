/*
 * fault.c — the library's allocation and write entry points, with test-only hooks that
 * make the n-th allocation or write fail (configure --disable-fault-injection drops them).
 */
#include "config.h"
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include "internal.h"

#ifdef OD_FAULT_INJECTION
/* Atomic: the evaluator's threads allocate too. */
static atomic_long alloc_left, write_left, alloc_count;

void od_fault_alloc_after(long n) { atomic_store(&alloc_left, n); atomic_store(&alloc_count, 0); }
void od_fault_write_after(long n) { atomic_store(&write_left, n); }
long od_fault_alloc_count(void) { return atomic_load(&alloc_count); }

/* True when this call is the one that must fail. */
static int trip(atomic_long *left)
{
	long v = atomic_load(left);
	while (v > 0)
		if (atomic_compare_exchange_weak(left, &v, v - 1))
			return v == 1;
	return 0;
}
#define ALLOC_FAILS() (atomic_fetch_add(&alloc_count, 1), trip(&alloc_left))
#define WRITE_FAILS() trip(&write_left)

bool od_fault_alloc_fails(void) { return ALLOC_FAILS(); }
#else
#define ALLOC_FAILS() 0
#define WRITE_FAILS() 0
#endif

void *od_malloc(size_t n)
{
	return ALLOC_FAILS() ? NULL : malloc(n ? n : 1);
}

void *od_calloc(size_t n, size_t sz)
{
	return ALLOC_FAILS() ? NULL : calloc(n ? n : 1, sz ? sz : 1);
}

void *od_realloc(void *p, size_t n)
{
	return ALLOC_FAILS() ? NULL : realloc(p, n ? n : 1);
}

void od_free(void *p)
{
	free(p);
}

bool od_fault_env(const char *name)
{
#ifdef OD_FAULT_INJECTION
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0");
#else
	(void)name;
	return false;
#endif
}

size_t od_fwrite(const void *p, size_t sz, size_t n, FILE *f)
{
	if (WRITE_FAILS()) {
		errno = ENOSPC;
		return 0;
	}
	return fwrite(p, sz, n, f);
}

/* Appends len bytes of the file open on in, from off, to out: in the kernel with
 * copy_file_range() (no page of either file is mapped or copied through user space; on
 * filesystems that share extents, nothing is copied at all), else through a buffer with
 * pread(). 0, or -1 with errno set. */
int od_copy_range(int in, off_t off, FILE *out, size_t len)
{
	enum { BUF = 128 << 10 };
	char *buf = NULL;
	bool kernel = true;
	if (WRITE_FAILS()) {
		errno = ENOSPC;
		return -1;
	}
	if (fflush(out))
		return -1;
	while (len) {
		ssize_t r = kernel ? copy_file_range(in, &off, fileno(out), NULL, len, 0) : -1;
		if (r < 0 && kernel && errno != EINTR) {        /* EXDEV, ENOSYS, EINVAL, ...: copy */
			kernel = false;
			continue;
		}
		if (!kernel) {
			if (!buf && !(buf = od_malloc(BUF)))
				return -1;
			r = pread(in, buf, len < BUF ? len : BUF, off);
			if (r > 0 && fwrite(buf, 1, (size_t)r, out) != (size_t)r)
				break;
			off += r > 0 ? r : 0;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			errno = r < 0 ? errno : EIO;     /* the source shrank */
			break;
		}
		len -= (size_t)r;
	}
	int err = errno;
	od_free(buf);
	errno = err;
	return len ? -1 : 0;
}
