/*
 * index.h - storaged's in-memory view of the store's metadata, so that tag
 * lookups, tag lists, the catalog and referrers are answered without a
 * directory walk: repositories (sorted), their tags (sorted) and manifest
 * revisions (sorted by digest), each revision pointing at the parsed facts of
 * its manifest blob, which also carry a bounded cache of manifest bodies.
 */
#ifndef SD_INDEX_H
#define SD_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "oci.h"

#define CACHE_BUDGET	(64u * 1024 * 1024)	/* manifest bodies kept */
/* Bodies above this are answered with a descriptor of the blob, never
 * from the cache (storaged.h's INLINE_MAX): caching them wastes memory. */
#define CACHE_ITEM_MAX	(100u * 1024)
/* Annotations up to this many bytes of JSON stay in the index; longer ones
 * are read from the manifest blob when a referrers page needs them, so the
 * index costs a bounded amount per manifest whatever a client pushes. */
#define ANNOT_INDEX_MAX	1024

/* What we know of one manifest blob; shared by every repo linking it. */
struct minfo {
	struct digest	 d;
	uint64_t	 size;
	char		*mediatype;
	char		*artifact_type;		/* NULL if none */
	char		*annotations;		/* compact JSON object or NULL */
	int		 annot_big;		/* longer than ANNOT_INDEX_MAX:
						 * in the blob only */
	int		 has_subject;
	struct digest	 subject;
	unsigned	 refs;			/* repositories linking it */
	char		*body;			/* cached bytes, or NULL */
	struct minfo	*hnext;
	struct minfo	*lru_prev, *lru_next;
};

struct itag {
	char		*name;
	struct digest	 d;
};

struct repo {
	char		*name;
	int		 has_manifests;		/* listed in the catalog */
	struct itag	*tags;
	size_t		 ntags, tagcap;
	struct minfo	**revs;
	size_t		 nrevs, revcap;
};

/* Walk repositories/ and parse every linked manifest once. */
void	 index_build(void);
void	 index_free(void);

struct repo *repo_find(const char *name);
struct repo *repo_get(const char *name);	/* find or create */
size_t	 repo_count(void);
struct repo *repo_at(size_t);
size_t	 repo_upper(const char *last);		/* first index > last */

struct minfo *repo_rev(const struct repo *, const struct digest *);
size_t	 rev_upper(const struct repo *, const struct digest *last);
void	 repo_add_rev(struct repo *, struct minfo *);
void	 repo_del_rev(struct repo *, const struct digest *);
struct itag *repo_tag(const struct repo *, const char *tag);
void	 repo_set_tag(struct repo *, const char *tag, const struct digest *);
void	 repo_del_tag(struct repo *, const char *tag);
size_t	 tag_upper(const struct repo *, const char *last);

/* Manifest facts: find, create from a parsed manifest, or load from disk. */
struct minfo *minfo_find(const struct digest *);
struct minfo *minfo_new(const struct digest *, uint64_t size,
	    const struct oci_manifest *);
struct minfo *minfo_load(const struct digest *);
void	 minfo_forget(struct minfo *);	/* when no repo links it */
/* Parse a stored body leniently (no Content-Type); -1 not a manifest. */
int	 minfo_parse_stored(const char *body, size_t len,
	    struct oci_manifest *m, char *mtfallback, size_t);

/* The body cache. */
const char *cache_get(struct minfo *);
void	 cache_put(struct minfo *, const char *body, size_t len);
size_t	 cache_used(void);

int	 digest_cmp(const struct digest *, const struct digest *);

#endif
