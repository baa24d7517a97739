/*
 * file.c — reading a whole small file (a value for --set, a TensorProto): regular files
 * only, and a fifo named by a hostile path must not block the process in open(2).
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

int od_read_file(const char *path, uint8_t **buf, size_t *len, struct od_ctx *ctx)
{
	struct stat st;
	*buf = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return od_error(ctx, OD_EIO, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		int err = S_ISDIR(st.st_mode) ? EISDIR : 0;
		close(fd);
		return od_error(ctx, OD_EIO, "cannot read '%s': %s", path,
		                err ? strerror(err) : "not a regular file");
	}
	size_t n = (size_t)st.st_size, got = 0;
	uint8_t *p = od_malloc(n ? n : 1);
	if (!p) {
		close(fd);
		return od_error(ctx, OD_ENOMEM, "out of memory");
	}
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int err = r < 0 ? errno : 0;
			close(fd);
			od_free(p);
			return od_error(ctx, OD_EIO, "cannot read '%s': %s", path,
			                err ? strerror(err) : "file changed while reading");
		}
		got += (size_t)r;
	}
	close(fd);
	*buf = p;
	*len = n;
	return 0;
}

size_t od_pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}
