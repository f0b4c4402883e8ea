/*
 * index.h - storaged's in-memory view of the store's metadata, so that tag
 * lookups, tag lists, the catalog and referrers are answered without a
 * directory walk: repositories (sorted), their tags (sorted) and manifest
 * revisions (sorted by digest), each revision pointing at the parsed facts of
 * its manifest blob, which also carry a bounded cache of manifest bodies.
 *
 * The index is filled in the background (build.c) and on demand: a
 * repository the builder has not delivered yet is read from disk the first
 * time repo_find or repo_get names it, so every answer is the one a
 * complete index gives.  The list of names (the catalog, repo_at) is
 * complete up to the builder's names walk, which goes in name order:
 * index_names_upto(), index_names_known_end(), index_names_ready().
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

/* A digest as the index keeps it: the algorithm and the raw bytes (32 for
 * sha256, 64 for sha512), a quarter of a struct digest. */
struct dkey {
	uint8_t		 alg;
	uint8_t		 raw[64];
};

/* What few manifests have: a subject, annotations. */
struct mextra {
	int		 has_subject;
	struct dkey	 subject;
	char		*annotations;		/* compact JSON object or NULL */
};

struct cbody;

/* What we know of one manifest blob; shared by every repo linking it.
 * Media and artifact types are interned (a registry holds few of them). */
struct minfo {
	struct minfo	*hnext;
	uint64_t	 size;
	const char	*mediatype;
	const char	*artifact_type;		/* NULL if none */
	struct mextra	*x;			/* NULL if neither */
	struct cbody	*body;			/* cached bytes, or NULL */
	uint32_t	 refs;			/* repositories linking it */
	uint8_t		 annot_big;		/* longer than ANNOT_INDEX_MAX:
						 * in the blob only */
	uint8_t		 alg;
	uint8_t		 raw[];			/* digest_hexlen(alg) / 2 */
};

/* A tag: one allocation holding its name, the NUL, then the algorithm and
 * raw bytes of its digest (tag_digest), a quarter of a name and a digest. */
struct itag {
	char		*name;
};

struct repo {
	char		*name;
	int		 has_manifests;		/* listed in the catalog */
	int		 loaded;		/* tags and revisions known */
	struct itag	*tags;
	size_t		 ntags, tagcap;
	struct minfo	**revs;
	size_t		 nrevs, revcap;
};

/* Key <-> digest at the index boundary. */
void	 key_of(const struct digest *, struct dkey *);
void	 key_digest(const struct dkey *, struct digest *);
void	 minfo_digest(const struct minfo *, struct digest *);
void	 tag_digest(const struct itag *, struct digest *);
char	*tag_alloc(const char *name, const struct digest *);
int	 minfo_subject_is(const struct minfo *, const struct digest *);
const char *minfo_annotations(const struct minfo *);	/* NULL if none */
int	 minfo_cmp_digest(const struct minfo *, const struct digest *);

/* Start the background build (build.c); 1 once every name is known. */
void	 index_start(void);
int	 index_names_ready(void);
int	 index_built(void);
void	 index_free(void);
/* What the builder read, merged in the loop (see drepo.h). */
struct drepo;
struct dname;
void	 index_deliver(const struct drepo *);
void	 index_deliver_names(const struct dname *, size_t, int done);
int	 index_names_upto(const char *name);
size_t	 index_names_known_end(void);
size_t	 index_tag_count(void);

/* The repository called name, read from disk first if not loaded yet;
 * NULL if it is not there. */
struct repo *repo_find(const char *name);
struct repo *repo_get(const char *name);	/* find or create */
struct repo *repo_lookup(const char *name);	/* find, maybe not loaded */
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

/* Manifest facts: find, create from a parsed manifest. */
struct minfo *minfo_find(const struct digest *);
struct minfo *minfo_new(const struct digest *, uint64_t size,
	    const struct oci_manifest *);
struct minfo *minfo_make(const struct digest *, uint64_t size,
	    const char *mediatype, const char *artifact_type,
	    const char *annotations, const struct digest *subject);
void	 minfo_forget(struct minfo *);	/* when no repo links it */
size_t	 minfo_count(void);
void	 minfo_free_all(void);
/* Parse a stored body leniently (no Content-Type); -1 not a manifest. */
int	 minfo_parse_stored(const char *body, size_t len,
	    struct oci_manifest *m, char *mtfallback, size_t);

/* The body cache. */
const char *cache_get(struct minfo *);
void	 cache_put(struct minfo *, const char *body, size_t len);
size_t	 cache_used(void);

int	 digest_cmp(const struct digest *, const struct digest *);

#endif
