/*
 * drepo.h - a repository's metadata read from disk, for the index: the
 * names walk, one repository's tags, revisions and manifest facts.  Every
 * function here is safe on a thread: it touches the store (read only) and
 * what it returns, never the index.
 */
#ifndef SD_DREPO_H
#define SD_DREPO_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"

struct dname {
	char		*name;
	int		 has_manifests;
};

struct dtag {
	char		*name;
	struct digest	 d;
};

/* The facts of one revision; known: the caller had them, nothing read. */
struct dfacts {
	struct digest	 d;
	int		 known;
	uint64_t	 size;
	char		*mediatype;
	char		*artifact_type;
	char		*annotations;	/* at most ANNOT_INDEX_MAX bytes */
	int		 annot_big;	/* longer: in the blob only */
	int		 has_subject;
	struct digest	 subject;
	char		*body;		/* size bytes, or NULL */
};

struct drepo {
	struct drepo	*next;		/* on build.c's queue */
	char		*name;
	struct dtag	*tags;		/* sorted by name */
	size_t		 ntags;
	struct dfacts	*revs;		/* sorted by digest */
	size_t		 nrevs;
	size_t		 bytes;		/* about what it holds */
};

/* Every repository under repositories/, to emit(arg, name,
 * has_manifests) one at a time in strcmp order of the names. */
typedef void (*drepo_emit_fn)(void *, const char *, int);
void	 drepo_names_walk(drepo_emit_fn, void *);
void	 drepo_names_free(struct dname *, size_t);
/* 1 if repositories/<name> is a repository (has_manifests set). */
int	 drepo_exists(const char *name, int *has_manifests);
/* Tags and revisions of name; with bodies, the bodies the cache may keep;
 * known(d) (may be NULL) tells which facts need no reading. */
struct drepo *drepo_read(const char *name, int bodies,
	    int (*known)(const struct digest *));
/* Only the tags of name (what tags/list answers), as drepo_read has them. */
struct drepo *drepo_read_tags(const char *name);
void	 drepo_free(struct drepo *);

#endif
