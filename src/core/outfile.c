/*
 * outfile.c — files being written beside their target: unnamed (O_TMPFILE) where the
 * filesystem allows, so an interrupted write leaves nothing, else under a short hidden
 * name (".onnxdiff-XXXXXXXX": a target name of NAME_MAX bytes still fits) that a signal
 * handler can remove (od_save_cleanup). Committing links the file under its final name.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "outfile.h"

/* Named temporary files in existence, for od_save_cleanup() in a signal handler. */
static struct {
	volatile sig_atomic_t used;
	int dfd;
	char name[OUTFILE_TMP_NAME];
} pending[4];

static int track(int dfd, const char *name)
{
	for (int i = 0; i < (int)(sizeof pending / sizeof *pending); i++)
		if (!pending[i].used) {
			pending[i].dfd = dfd;
			memcpy(pending[i].name, name, OUTFILE_TMP_NAME);
			pending[i].used = 1;
			return i;
		}
	return -1;
}

static void untrack(int *slot)
{
	if (*slot >= 0)
		pending[*slot].used = 0;
	*slot = -1;
}

void od_save_cleanup(void)
{
	for (size_t i = 0; i < sizeof pending / sizeof *pending; i++)
		if (pending[i].used)
			unlinkat(pending[i].dfd, pending[i].name, 0);
}

static void random_name(char name[OUTFILE_TMP_NAME])
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char r[8];
	if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		unsigned long x = (unsigned long)ts.tv_nsec ^ ((unsigned long)getpid() << 20) ^ (unsigned long)(uintptr_t)r;
		for (size_t i = 0; i < sizeof r; i++, x = x * 6364136223846793005UL + 1442695040888963407UL)
			r[i] = (unsigned char)(x >> 33);
	}
	memcpy(name, ".onnxdiff-", 10);
	for (size_t i = 0; i < sizeof r; i++)
		name[10 + i] = digits[r[i] % 36];
	name[18] = 0;
}

int outfile_open(struct outfile *o, int dfd, mode_t mode)
{
	*o = (struct outfile){dfd, -1, NULL, "", -1, false};
	if (!od_fault_env("ONNXDIFF_FAULT_NO_TMPFILE"))
		o->fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	for (int tries = 0; o->fd < 0 && tries < 100; tries++) {
		if (o->fd < 0 && tries && errno != EEXIST)
			return -1;
		random_name(o->name);
		o->fd = openat(dfd, o->name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
		if (o->fd >= 0)
			o->slot = track(dfd, o->name);
	}
	if (o->fd < 0 || fchmod(o->fd, mode) || !(o->f = fdopen(o->fd, "wb"))) {
		int err = errno;
		outfile_discard(o);
		errno = err;
		return -1;
	}
	return 0;
}

int outfile_sync(struct outfile *o, int err)
{
	if (!err && fflush(o->f))
		err = errno;
	if (!err && fsync(o->fd))
		err = errno;
	return err;
}

/* Gives an unnamed file a temporary name (linkat through /proc, or AT_EMPTY_PATH, which
 * needs CAP_DAC_READ_SEARCH, where /proc is not mounted). */
static int link_unnamed(struct outfile *o)
{
	char proc[64];
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", o->fd);
	for (int tries = 0; tries < 100; tries++) {
		random_name(o->name);
		if (!linkat(AT_FDCWD, proc, o->dfd, o->name, AT_SYMLINK_FOLLOW) ||
		    (errno != EEXIST && !linkat(o->fd, "", o->dfd, o->name, AT_EMPTY_PATH))) {
			o->slot = track(o->dfd, o->name);
			return 0;
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int outfile_commit(struct outfile *o, const char *name)
{
	if (!*o->name && link_unnamed(o))
		return -1;
	if (renameat(o->dfd, o->name, o->dfd, name))
		return -1;
	untrack(&o->slot);
	o->name[0] = 0;
	o->committed = true;
	return 0;
}

void outfile_discard(struct outfile *o)
{
	if (*o->name && !o->committed)
		unlinkat(o->dfd, o->name, 0);
	untrack(&o->slot);
	if (o->f)
		fclose(o->f);
	else if (o->fd >= 0)
		close(o->fd);
	o->f = NULL;
	o->fd = -1;
	o->name[0] = 0;
}
