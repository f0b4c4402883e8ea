/*
 * storaged.c - the content store worker: the only writer of the store.  It
 * runs in the store root (its chroot when started as root), starts the
 * metadata index's build once configured (build.c) and answers httpd's blob, upload,
 * manifest and listing requests, and gcd's sweeps (gc.c).  Its
 * timers: the upload sweep (idle sessions expire) and the stop wait.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "digest.h"
#include "ev.h"
#include "index.h"
#include "link.h"
#include "log.h"
#include "mtext.h"
#include "oci.h"
#include "proc.h"
#include "pulls.h"
#include "store.h"
#include "storaged.h"
#include "task.h"
#include "util.h"
#include "worker.h"

#define STOP_POLL_MS	100

static struct link *peers[PROC_MAX];
static int ready;
static struct ev_timer stop_timer;
static uint64_t stop_deadline;
static int stopping;

static const struct link_accept storaged_accept[] = {
	{ PROC_HTTPD, M_PING, 0 },
	{ PROC_HTTPD, M_BLOB_STAT, 0 },
	{ PROC_HTTPD, M_BLOB_OPEN, 0 },
	{ PROC_HTTPD, M_BLOB_DELETE, 0 },
	{ PROC_HTTPD, M_BLOB_MOUNT, 0 },
	{ PROC_HTTPD, M_UPLOAD_START, 0 },
	{ PROC_HTTPD, M_UPLOAD_WRITE, 0 },
	{ PROC_HTTPD, M_UPLOAD_END, 0 },
	{ PROC_HTTPD, M_UPLOAD_STATUS, 0 },
	{ PROC_HTTPD, M_UPLOAD_COMMIT, 0 },
	{ PROC_HTTPD, M_UPLOAD_CANCEL, 0 },
	{ PROC_HTTPD, M_MANIFEST_GET, 0 },
	{ PROC_HTTPD, M_MANIFEST_PUT, 0 },
	{ PROC_HTTPD, M_MANIFEST_DELETE, 0 },
	{ PROC_HTTPD, M_TAGS_LIST, 0 },
	{ PROC_HTTPD, M_CATALOG, 0 },
	{ PROC_HTTPD, M_REFERRERS, 0 },
	{ PROC_GCD, M_PING, 0 },
	{ PROC_GCD, M_GC_BEGIN, 0 },
	{ PROC_GCD, M_GC_SWEEP, 0 },
	{ PROC_GCD, M_GC_UNLINK, 0 },
	{ PROC_GCD, M_GC_MANIFEST, 0 },
	{ PROC_GCD, M_GC_UPLOADS, 0 },
	{ PROC_GCD, M_GC_END, 0 },
	{ PROC_GCD, M_GC_SYNC, 0 },
	{ 0, 0, 0 }
};

/* From master, besides the common requests: the repair channel, once. */
static const struct link_accept master_accept[] = {
	{ PROC_MASTER, M_REPAIR_FD, 1 },
	{ PROC_MASTER, M_STORE_PROBE, 0 },
	{ 0, 0, 0 }
};

/* Open the store and build the index, once; then the upload sessions
 * on disk are counted and the idle ones expired, on timers. */
static void
storaged_ready(void)
{
	if (ready)
		return;
	store_init();
	index_start();
	upload_init();
	ready = 1;
}

/* One request from httpd or gcd: one helper per message type. */
static void
peer_request(struct link *l, struct msg *m, void *arg)
{
	storaged_ready();
	switch (m->type) {
	case M_PING:		worker_pong(l, m); break;
	case M_BLOB_STAT:	blob_stat(l, m); break;
	case M_BLOB_OPEN:	blob_open(l, m); break;
	case M_BLOB_DELETE:	blob_delete(l, m); break;
	case M_BLOB_MOUNT:	blob_mount(l, m); break;
	case M_UPLOAD_START:	upload_start(l, m); break;
	case M_UPLOAD_WRITE:	upload_write(l, m); break;
	case M_UPLOAD_END:	upload_end(l, m); break;
	case M_UPLOAD_STATUS:	upload_status(l, m); break;
	case M_UPLOAD_COMMIT:	upload_commit(l, m); break;
	case M_UPLOAD_CANCEL:	upload_cancel(l, m); break;
	case M_MANIFEST_GET:	manifest_get(l, m); break;
	case M_MANIFEST_PUT:	manifest_put(l, m); break;
	case M_MANIFEST_DELETE:	manifest_delete(l, m); break;
	case M_TAGS_LIST:	tags_list(l, m); break;
	case M_CATALOG:		catalog(l, m); break;
	case M_REFERRERS:	referrers(l, m); break;
	case M_GC_BEGIN:	gc_begin(l, m); break;
	case M_GC_SWEEP:	gc_sweep(l, m); break;
	case M_GC_UNLINK:	gc_unlink(l, m); break;
	case M_GC_MANIFEST:	manifest_gc(l, m); break;
	case M_GC_UPLOADS:	gc_uploads(l, m); break;
	case M_GC_END:		gc_end(l, m); break;
	case M_GC_SYNC:		gc_sync(l, m); break;
	default:
		fatalx("accepted %s without a handler", msg_type_name(m->type));
	}
}

/* Drop a link and every piece of work that would answer on it. */
static void
peer_drop(struct link *l)
{
	int peer = link_peer(l);

	upload_link_gone(l);
	manifest_link_gone(l);
	catalog_link_gone(l);
	gc_link_gone(l);
	if (peers[peer] == l)
		peers[peer] = NULL;
	link_free(l);
}

/* The peer went away; master will hand over a fresh socket. */
static void
peer_close(struct link *l, void *arg)
{
	log_info("link to %s closed", proc_name(link_peer(l)));
	peer_drop(l);
}

/* A fresh socket to httpd or gcd from master replaces the old one. */
static void
storaged_peer(int peer, int fd)
{
	if (peer != PROC_HTTPD && peer != PROC_GCD) {
		close(fd);
		return;
	}
	if (peers[peer])
		peer_drop(peers[peer]);
	peers[peer] = link_new(fd, peer, storaged_accept, peer_request,
	    peer_close, NULL);
}

/* master asks whether the store can be written now (/readyz). */
static void
store_probe(struct link *l, struct msg *m)
{
	char why[300];

	storaged_ready();
	if (store_write_probe() == 0) {
		link_reply_done(l, m->id);
		return;
	}
	snprintf(why, sizeof(why), "a scratch file: %s", strerror(errno));
	log_warnx("store write probe: %s", why);
	link_reply_err(l, m->id, 503, why);
}

/* What the index and the upload table know, for a scrape: all of it is
 * in memory, nothing is counted on disk. */
static void
storaged_metrics(struct buf *b)
{
	static const struct {
		const char *name, *help;
	} f[] = {
		{ "registry_store_index_ready", "1 once the metadata index "
		    "holds the whole store" },
		{ "registry_store_repositories", "repositories in the index" },
		{ "registry_store_tags", "tags in the index" },
		{ "registry_store_manifests", "manifest blobs in the index" },
		{ "registry_store_manifest_cache_bytes", "manifest bodies "
		    "kept in memory" },
		{ "registry_store_uploads_open", "upload sessions open" },
	};
	double v[6];

	v[0] = index_built();
	v[1] = (double)repo_count();
	v[2] = (double)index_tag_count();
	v[3] = (double)minfo_count();
	v[4] = (double)cache_used();
	v[5] = (double)upload_count();
	for (size_t i = 0; i < nitems(f); i++) {
		mtext_family(b, f[i].name, MT_GAUGE, f[i].help);
		mtext_sample(b, f[i].name, NULL, 0, v[i]);
	}
}

/* A request from master the common worker code leaves to us. */
static void
master_request(struct link *l, struct msg *m)
{
	switch (m->type) {
	case M_REPAIR_FD:
		store_repair_channel(msg_take_fd(m, A_FD));
		break;
	case M_STORE_PROBE:
		store_probe(l, m);
		break;
	default:
		fatalx("accepted %s without a handler", msg_type_name(m->type));
	}
}

/* Configuration arrived: at start, open the store and build the index. */
static void
storaged_configured(int first)
{
	if (first)
		storaged_ready();
	store_configure();
	pulls_configure();
}

/* Exit once in-flight writes are done, or at stop_timeout. */
static void
stop_check(void *arg)
{
	if (upload_busy() + manifest_busy() + task_busy() == 0)
		worker_exit();
	if (now_ms() >= stop_deadline) {
		/* copier threads must not run into exit's cleanup */
		upload_free_all();
		worker_exit();
	}
	ev_timer_arm(&stop_timer, STOP_POLL_MS);
}

/* Master asked us to stop: let writes in flight finish first. */
static void
storaged_stop(void)
{
	if (stopping++)
		return;
	if (pulls_count() > 0)
		pulls_flush(NULL, NULL);
	stop_deadline = now_ms() + (uint64_t)conf_int(P_STOP_TIMEOUT) * 1000;
	ev_timer_init(&stop_timer, stop_check, NULL);
	stop_check(NULL);
}

/* Before the privilege drop: the libraries storaged uses read their files. */
static void
storaged_preload(void)
{
	oci_preload();
	hash_preload();
}

static const struct worker_ops storaged_ops = {
	.id = PROC_STORAGED,
	.accept = master_accept,
	.request = master_request,
	.configured = storaged_configured,
	.peer = storaged_peer,
	.stop = storaged_stop,
	.preload = storaged_preload,
	.metrics = storaged_metrics,
};

/* storaged: the common worker start, with our handlers. */
int
main(int argc, char **argv)
{
	worker_main(argc, argv, &storaged_ops);
}
