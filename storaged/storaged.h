/*
 * storaged.h - what storaged's files share: one handler per request type
 * (each validates its input and answers on the link, now or later), the
 * request helpers, and the hooks for a link that goes away.
 */
#ifndef SD_STORAGED_H
#define SD_STORAGED_H

#include <stddef.h>
#include <time.h>

#include "digest.h"
#include "link.h"
#include "msg.h"
#include "oci.h"

#define INLINE_MAX	(100u * 1024)	/* larger bodies travel as a memfd */

/* req.c: validation that answers the error itself; 0 ok, -1 answered. */
int	 req_repo(struct link *, const struct msg *, int attr, const char **);
int	 req_digest(struct link *, const struct msg *, int attr,
	    struct digest *);
void	 reply_blob(struct link *, uint32_t id, const struct digest *,
	    uint64_t size, int fd);
void	 reply_list(struct link *, uint32_t id, char *body, const char *last);
void	 reply_internal(struct link *, uint32_t id, const char *what);

/* blob.c */
void	 blob_stat(struct link *, struct msg *);
void	 blob_open(struct link *, struct msg *);
void	 blob_delete(struct link *, struct msg *);
void	 blob_mount(struct link *, struct msg *);
int	 blob_link(const char *repo, const struct digest *);

/* upload.c */
void	 upload_start(struct link *, struct msg *);
void	 upload_write(struct link *, struct msg *);
void	 upload_end(struct link *, struct msg *);
void	 upload_status(struct link *, struct msg *);
void	 upload_commit(struct link *, struct msg *);
void	 upload_cancel(struct link *, struct msg *);
void	 upload_link_gone(struct link *);
size_t	 upload_busy(void);
size_t	 upload_count(void);		/* sessions open */
void	 upload_gc_inflight(void);
size_t	 upload_expire_idle(time_t age);
void	 upload_free_all(void);
void	 upload_init(void);

/* manifest.c */
void	 manifest_get(struct link *, struct msg *);
void	 manifest_put(struct link *, struct msg *);
void	 manifest_delete(struct link *, struct msg *);
void	 manifest_link_gone(struct link *);
size_t	 manifest_busy(void);

void	 manifest_gc(struct link *, struct msg *);
void	 manifest_gc_inflight(void);

/* gc.c: gcd's collections; what storaged must not sweep meanwhile */
void	 gc_begin(struct link *, struct msg *);
void	 gc_sweep(struct link *, struct msg *);
void	 gc_unlink(struct link *, struct msg *);
void	 gc_uploads(struct link *, struct msg *);
void	 gc_end(struct link *, struct msg *);
void	 gc_sync(struct link *, struct msg *);
void	 gc_link_gone(struct link *);
void	 gc_remember(const struct digest *);
void	 gc_remember_manifest(const struct digest *,
	    const struct oci_manifest *);
int	 gc_remembered(const struct digest *);

/* list.c */
void	 tags_list(struct link *, struct msg *);
void	 catalog(struct link *, struct msg *);
void	 catalog_names_more(void);
void	 catalog_link_gone(struct link *);
void	 referrers(struct link *, struct msg *);

#endif
