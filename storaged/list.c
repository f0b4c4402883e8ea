/*
 * list.c - the listing requests, answered from the index: a repository's
 * tags and the catalog (lexical order, paged by "last" and "count"), and
 * the referrers of a manifest (an OCI index of the manifests whose subject
 * it is, optionally only those of one artifactType).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "oci.h"
#include "regerr.h"
#include "storaged.h"
#include "util.h"

/* How many entries a page may hold: count, or all when it is absent. */
static size_t
page_count(const struct msg *m)
{
	uint64_t c = msg_u64(m, A_COUNT, UINT64_MAX);

	return c > SIZE_MAX ? SIZE_MAX : (size_t)c;
}

/* M_TAGS_LIST: a page of a repository's tags, in strcmp order. */
void
tags_list(struct link *l, struct msg *m)
{
	const char *repo, *last = msg_str(m, A_LAST);
	size_t start, n, max = page_count(m), i;
	struct repo *r;
	char **names;

	if (req_repo(l, m, A_REPO, &repo) == -1)
		return;
	if ((r = repo_find(repo)) == NULL || !r->has_manifests) {
		link_reply_err(l, m->id, RE_NAME_UNKNOWN, NULL);
		return;
	}
	start = last ? tag_upper(r, last) : 0;
	n = r->ntags - start < max ? r->ntags - start : max;
	names = xcalloc(n ? n : 1, sizeof(*names));
	for (i = 0; i < n; i++)
		names[i] = r->tags[start + i].name;
	reply_list(l, m->id, oci_tags_json(repo, names, n),
	    n > 0 && start + n < r->ntags ? names[n - 1] : NULL);
	free(names);
}

/* M_CATALOG: a page of the repositories that hold manifests. */
void
catalog(struct link *l, struct msg *m)
{
	const char *last = msg_str(m, A_LAST);
	size_t i, n = 0, max = page_count(m), cap = 64;
	char **names = xcalloc(cap, sizeof(*names));
	int more = 0;

	for (i = last ? repo_upper(last) : 0; i < repo_count(); i++) {
		struct repo *r = repo_at(i);
		if (!r->has_manifests)
			continue;
		if (n == max) {
			more = 1;
			break;
		}
		if (n == cap) {
			cap *= 2;
			names = xreallocarray(names, cap, sizeof(*names));
		}
		names[n++] = r->name;
	}
	reply_list(l, m->id, oci_catalog_json(names, n),
	    more && n > 0 ? names[n - 1] : NULL);
	free(names);
}

/* Descriptor of revision mi for the referrers index (borrowed strings). */
static void
desc_of(const struct minfo *mi, struct oci_desc *d)
{
	memset(d, 0, sizeof(*d));
	(void)str_copy(d->mediatype, mi->mediatype, sizeof(d->mediatype));
	d->digest = mi->d;
	d->size = (int64_t)mi->size;
	d->artifact_type = mi->artifact_type;
	d->annotations_json = mi->annotations;
}

/* M_REFERRERS: the manifests of repo whose subject is digest. */
void
referrers(struct link *l, struct msg *m)
{
	const char *repo, *filter = msg_str(m, A_FILTER);
	struct oci_desc *descs;
	struct digest d;
	struct repo *r;
	size_t i, n = 0;

	if (req_repo(l, m, A_REPO, &repo) == -1 ||
	    req_digest(l, m, A_DIGEST, &d) == -1)
		return;
	r = repo_find(repo);
	descs = xcalloc(r && r->nrevs ? r->nrevs : 1, sizeof(*descs));
	for (i = 0; r && i < r->nrevs; i++) {
		const struct minfo *mi = r->revs[i];
		if (!mi->has_subject || !digest_equal(&mi->subject, &d))
			continue;
		if (filter && *filter && (mi->artifact_type == NULL ||
		    strcmp(mi->artifact_type, filter) != 0))
			continue;
		desc_of(mi, &descs[n++]);
	}
	reply_list(l, m->id, oci_referrers_json(descs, n), NULL);
	free(descs);
}
