/*
 * blob.c - blob requests: stat, open (a read-only descriptor httpd sends
 * with sendfile), delete (the repository's link only, as Distribution does)
 * and cross-repository mount (a new link to data already in the store).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "index.h"
#include "log.h"
#include "oci.h"
#include "regerr.h"
#include "store.h"
#include "storaged.h"

/* M_BLOB_STAT: size of a blob linked in the repository. */
void
blob_stat(struct link *l, struct msg *m)
{
	struct digest d;
	const char *repo;
	uint64_t size;

	if (req_repo(l, m, A_REPO, &repo) == -1 ||
	    req_digest(l, m, A_DIGEST, &d) == -1)
		return;
	if (store_layer_stat(repo, &d, &size) == -1) {
		link_reply_err(l, m->id, RE_BLOB_UNKNOWN, NULL);
		return;
	}
	reply_blob(l, m->id, &d, size, -1);
}

/* M_BLOB_OPEN: a read-only descriptor of a linked blob, for sendfile(). */
void
blob_open(struct link *l, struct msg *m)
{
	struct digest d;
	const char *repo;
	uint64_t size;
	int fd;

	if (req_repo(l, m, A_REPO, &repo) == -1 ||
	    req_digest(l, m, A_DIGEST, &d) == -1)
		return;
	if (store_layer_stat(repo, &d, &size) == -1 ||
	    (fd = store_blob_open(&d, &size)) == -1) {
		link_reply_err(l, m->id, RE_BLOB_UNKNOWN, NULL);
		return;
	}
	reply_blob(l, m->id, &d, size, fd);
}

/* M_BLOB_DELETE: unlink the blob from the repository (data stays for GC). */
void
blob_delete(struct link *l, struct msg *m)
{
	char p[STORE_PATHMAX];
	struct digest d, ld;
	const char *repo;

	if (req_repo(l, m, A_REPO, &repo) == -1 ||
	    req_digest(l, m, A_DIGEST, &d) == -1)
		return;
	if (!store_delete_on()) {
		link_reply_err(l, m->id, RE_UNSUPPORTED, "deletes are disabled");
		return;
	}
	if (path_layer_link(p, sizeof(p), repo, &d) == -1 ||
	    store_link_read(p, &ld) == -1) {
		link_reply_err(l, m->id, RE_BLOB_UNKNOWN, NULL);
		return;
	}
	if (store_link_remove(p) == -1) {
		reply_internal(l, m->id, "remove layer link");
		return;
	}
	log_debug("%s: unlinked blob %s", repo, d.hex);
	link_reply_done(l, m->id);
}

/* Link blob d into repo's _layers. */
int
blob_link(const char *repo, const struct digest *d)
{
	char p[STORE_PATHMAX];

	if (path_layer_link(p, sizeof(p), repo, d) == -1)
		return errno = EINVAL, -1;
	if (store_link_write(p, d) == -1)
		return -1;
	(void)repo_get(repo);
	return 0;
}

/* M_BLOB_MOUNT: link a blob already in the store (from a repo, or any). */
void
blob_mount(struct link *l, struct msg *m)
{
	const char *repo, *from;
	struct digest d;
	uint64_t size;
	int found;

	if (req_repo(l, m, A_REPO, &repo) == -1 ||
	    req_digest(l, m, A_DIGEST, &d) == -1)
		return;
	from = msg_str(m, A_FROM);
	if (from != NULL)
		found = oci_name_valid(from) &&
		    store_layer_stat(from, &d, &size) == 0;
	else
		found = store_blob_stat(&d, &size) == 0;
	if (!found) {
		link_reply_err(l, m->id, RE_BLOB_UNKNOWN, NULL);
		return;
	}
	gc_remember(&d);
	if (blob_link(repo, &d) == -1) {
		reply_internal(l, m->id, "write layer link");
		return;
	}
	reply_blob(l, m->id, &d, size, -1);
}
