/*
 * resolver.c - what the resolver reads, copied into a worker's chroot
 * (postfix's way), for a worker that dials by name: tunneld (the relay,
 * the local services), and any other that resolves names inside its
 * chroot.  Such a worker needs a chroot of its own: httpd's empty
 * directory is shared and must stay empty.  A file the host lacks is left
 * out; a copy that fails is said, not fatal (names given as addresses
 * still work).  Called at start and on SIGHUP, so an edited resolv.conf
 * reaches the worker.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "util.h"

#define RESOLVER_FILE_MAX	(112 * 1024)	/* larger files are left out */

void
resolver_files(int id)
{
	static const char *const files[] = { "/etc/resolv.conf", "/etc/hosts",
	    "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf" };
	char dir[1100], path[1200], err[1400], *data;
	size_t len;

	if (geteuid() != 0)
		return;		/* no chroot: the worker reads /etc itself */
	snprintf(dir, sizeof(dir), "%s/etc", worker_chroot(id));
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		log_warn("%s", dir);
		return;
	}
	for (size_t i = 0; i < nitems(files); i++) {
		if (file_read_all(files[i], RESOLVER_FILE_MAX, &data,
		    &len) == -1)
			continue;
		snprintf(path, sizeof(path), "%s%s", worker_chroot(id),
		    files[i]);
		if (file_replace(path, data, len, 0644, (gid_t)-1, 0, err,
		    sizeof(err)) == -1)
			log_warnx("%s", err);
		free(data);
	}
}
