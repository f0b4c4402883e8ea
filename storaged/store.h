/*
 * store.h - the content store on disk, in Docker Distribution 2.x layout:
 * path building (every name, tag, digest and uuid re-validated first),
 * durable atomic writes, link files, blob lookup, tree removal.  Every path
 * is relative to the store root, which is storaged's working directory
 * (its chroot when started as root).
 */
#ifndef SD_STORE_H
#define SD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"

#define STORE_PATHMAX	1024
#define STORE_V2	"docker/registry/v2"
#define STORE_REPOS	STORE_V2 "/repositories"
#define STORE_BLOBS	STORE_V2 "/blobs"
/* Our own scratch directory: Distribution never looks at it. */
#define STORE_TMP	STORE_V2 "/regmaster-tmp"
#define UUID_LEN	36

/* Open the root, create the top directories, empty the scratch directory. */
void	 store_init(void);
int	 store_rootfd(void);
int	 store_fsync_on(void);		/* storage.fsync */
void	 store_configure(void);		/* reread it after a reload */
int	 store_delete_on(void);		/* storage.delete */
int	 store_write_probe(void);		/* readiness: 0 or -1 (errno) */

/* Path builders: 0 ok, -1 if an input is invalid or the path too long. */
int	 path_blob_dir(char *, size_t, const struct digest *);
int	 path_blob_data(char *, size_t, const struct digest *);
int	 path_repo(char *, size_t, const char *repo, const char *sub);
int	 path_layer_link(char *, size_t, const char *repo, const struct digest *);
int	 path_rev_link(char *, size_t, const char *repo, const struct digest *);
int	 path_tag_dir(char *, size_t, const char *repo, const char *tag);
int	 path_tag_current(char *, size_t, const char *repo, const char *tag);
int	 path_tag_index(char *, size_t, const char *repo, const char *tag,
	    const struct digest *);
int	 path_upload(char *, size_t, const char *repo, const char *uuid,
	    const char *file);
int	 uuid_valid(const char *);
void	 uuid_new(char out[UUID_LEN + 1]);

/* Filesystem operations; -1 with errno set on failure. */
int	 store_mkdirs(const char *dir);
int	 store_fsync_dir(const char *dir);
int	 store_fsync_parent(const char *path);
int	 store_write_atomic(const char *path, const void *, size_t);
int	 store_tmpfile(char *path, size_t);
int	 store_move_noreplace(const char *from, const char *to);
int	 store_link_write(const char *path, const struct digest *);
int	 store_link_read(const char *path, struct digest *);
int	 store_link_remove(const char *path);
int	 store_detach(const char *path, char *tmp, size_t);
int	 store_swept_take(const char *dir);
int	 store_swept_left(const char *dir, uint64_t *size);
int	 store_swept_free(const char *dir);
int	 store_remove_tree(const char *path);
int	 store_rmtree_at(int dirfd, const char *name, int depth);
int	 store_remove_at(int dirfd, const char *dir, const char *name);

/* owner.c: master's repair channel.  After a write under path failed:
 * 1 if master gave storaged what was in the way (retry once), else 0 with
 * errno as it was. */
void	 store_repair_channel(int fd);
int	 store_repair(const char *path);

/* Blobs: 0 present (size set), -1 absent. */
int	 store_blob_stat(const struct digest *, uint64_t *size);
int	 store_blob_open(const struct digest *, uint64_t *size);
/* Linked in repo's _layers and present: 0 (size set), -1 not. */
int	 store_layer_stat(const char *repo, const struct digest *, uint64_t *);
/* Read a whole regular file of at most max bytes; malloc'd, NULL on error. */
char	*store_read_file(const char *path, size_t max, size_t *len);
/* Write the blob body (a manifest) unless already present. */
int	 store_blob_put(const struct digest *, const void *, size_t);

#endif
