/*
 * outfile.h — a file written beside its target and linked under its name when complete
 * (outfile.c). Internal to the library.
 */
#ifndef OD_OUTFILE_H
#define OD_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>
#include "internal.h"

#define OUTFILE_TMP_NAME 20     /* ".onnxdiff-" + 8 characters + NUL */

struct outfile {
	int dfd;                /* the target's folder (borrowed) */
	int fd;                 /* the file, O_TMPFILE or named */
	FILE *f;                /* over fd, owns it */
	char name[OUTFILE_TMP_NAME]; /* its temporary name in dfd, "" while unnamed */
	int slot;               /* its entry for od_save_cleanup, -1 when none */
	bool committed;         /* linked under its final name */
};

#define OUTFILE_NONE {-1, -1, NULL, "", -1, false}

/* Creates the file in dfd with mode; 0 or -1 with errno. */
int outfile_open(struct outfile *o, int dfd, mode_t mode);
/* Flushes and fsyncs; returns err, or the errno of the first failure. */
int outfile_sync(struct outfile *o, int err);
/* Links the synced file as name in dfd, replacing what was there; 0 or -1 with errno. */
int outfile_commit(struct outfile *o, const char *name);
/* Closes the file; removes it unless committed. Safe on OUTFILE_NONE and twice. */
void outfile_discard(struct outfile *o);

#endif
