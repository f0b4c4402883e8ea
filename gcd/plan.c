/*
 * plan.c - what a run deletes, decided from what scan.c read: the tags a
 * retention policy drops, the manifests no kept tag reaches (when
 * gc.untagged or a policy's untagged_max_age says so, or when they lost
 * their last tag to a policy), then the mark from every manifest left and
 * the blobs nothing marks.  Usage comes out of the same mark.
 */
#include <stdlib.h>
#include <string.h>

#include "dset.h"
#include "gcd.h"
#include "retention.h"
#include "util.h"

struct gman *
plan_rev(const struct grepo *r, const struct digest *d)
{
	size_t lo = 0, hi = r->nrevs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct gman *m = &r->revs[mid];
		int c = m->d.alg != d->alg ? (m->d.alg < d->alg ? -1 : 1) :
		    strcmp(m->d.hex, d->hex);
		if (c == 0)
			return (struct gman *)m;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
gtag_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gtag *)a)->name,
	    ((const struct gtag *)b)->name);
}

int64_t
plan_last_pull(const struct grepo *r, const struct gtag *t)
{
	const struct gman *m = plan_rev(r, &t->d);

	return m != NULL && m->mtime > t->mtime ? m->mtime : t->mtime;
}

/* The tags rule deletes in r; in a cached repository by last pull time,
 * not by when the cache fetched the tag. */
static void
plan_tags(struct grepo *r, const struct retention_rule *rule, int64_t now)
{
	struct rtag *rt;
	struct gtag key, *t;

	if (rule == NULL || r->ntags == 0)
		return;
	qsort(r->tags, r->ntags, sizeof(*r->tags), gtag_cmp);
	rt = xcalloc(r->ntags, sizeof(*rt));
	for (size_t i = 0; i < r->ntags; i++) {
		rt[i].name = r->tags[i].name;
		rt[i].pushed = r->cached ? plan_last_pull(r, &r->tags[i]) :
		    r->tags[i].mtime;
	}
	retention_plan(rule, rt, r->ntags, now);
	for (size_t i = 0; i < r->ntags; i++) {
		key.name = (char *)rt[i].name;
		t = bsearch(&key, r->tags, r->ntags, sizeof(*r->tags),
		    gtag_cmp);
		t->del = rt[i].del;
	}
	free(rt);
}

/* Spread flag (keep or drop) from each manifest that has it to its
 * children, and to the referrers of one that has it, until nothing
 * changes; a manifest with stop set is never given it. */
static void
spread(struct grepo *r, size_t flag_off, size_t stop_off)
{
	int changed = 1;

#define FLAG(m)	(*(int *)((char *)(m) + flag_off))
#define STOP(m)	(stop_off ? *(int *)((char *)(m) + stop_off) : 0)
	while (changed) {
		changed = 0;
		for (size_t i = 0; i < r->nrevs; i++) {
			struct gman *m = &r->revs[i], *c;
			if (!FLAG(m) && !STOP(m) && m->has_subject &&
			    (c = plan_rev(r, &m->subject)) && FLAG(c))
				changed = FLAG(m) = 1;
			for (size_t k = 0; FLAG(m) && m->is_index &&
			    k < m->nrefs; k++)
				if ((c = plan_rev(r, &m->refs[k])) != NULL &&
				    !FLAG(c) && !STOP(c))
					changed = FLAG(c) = 1;
		}
	}
#undef FLAG
#undef STOP
}

/* A manifest left in place keeps every child it names. */
static void
keep_children(struct grepo *r)
{
	int changed = 1;

	while (changed) {
		changed = 0;
		for (size_t i = 0; i < r->nrevs; i++) {
			struct gman *m = &r->revs[i], *c;
			for (size_t k = 0; !m->del && m->is_index &&
			    k < m->nrefs; k++)
				if ((c = plan_rev(r, &m->refs[k])) && c->del)
					changed = 1, c->del = 0;
		}
	}
}

/* One repository's manifests to delete. */
static void
plan_repo(struct grepo *r, const struct gplan_conf *pc)
{
	const struct retention_rule *rule = retention_match(pc->rules,
	    pc->nrules, r->name);
	struct gman *m;

	plan_tags(r, rule, pc->now);
	for (size_t i = 0; i < r->ntags; i++)
		if ((m = plan_rev(r, &r->tags[i].d)) != NULL) {
			if (!r->tags[i].del)
				m->ntags++;
			else
				m->drop = 1;
		}
	for (size_t i = 0; i < r->nrevs; i++) {
		m = &r->revs[i];
		m->keep = m->ntags > 0;
		if (m->keep)
			m->drop = 0;
	}
	spread(r, offsetof(struct gman, keep), 0);
	spread(r, offsetof(struct gman, drop), offsetof(struct gman, keep));
	for (size_t i = 0; i < r->nrevs; i++) {
		int64_t age = pc->now - (m = &r->revs[i])->mtime;
		if (m->keep || age < pc->grace)
			continue;
		m->del = m->drop || pc->untagged || (rule &&
		    rule->untagged_max_age > 0 &&
		    age > (int64_t)rule->untagged_max_age);
	}
	keep_children(r);
}

void
plan_manifests(struct gscan *s, const struct gplan_conf *pc)
{
	for (size_t i = 0; i < s->nrepos; i++)
		plan_repo(&s->repos[i], pc);
}

int
plan_deletes(const struct gscan *s)
{
	for (size_t i = 0; i < s->nrepos; i++) {
		const struct grepo *r = &s->repos[i];
		for (size_t k = 0; k < r->ntags; k++)
			if (r->tags[k].del)
				return 1;
		for (size_t k = 0; k < r->nrevs; k++)
			if (r->revs[k].del)
				return 1;
	}
	return 0;
}

/* Mark what repository ri's remaining manifests use.  A mark's value
 * holds how many repositories use the blob (high half) and the last one
 * that did plus one (low half), which counts each repository once. */
static void
mark_repo(struct dset *marks, const struct grepo *r, uint32_t ri)
{
	for (size_t i = 0; i < r->nrevs; i++) {
		const struct gman *m = &r->revs[i];
		if (m->gone)
			continue;
		for (size_t k = 0; k <= m->nrefs + 1; k++) {
			const struct digest *d = k == 0 ? &m->d :
			    k <= m->nrefs ? &m->refs[k - 1] :
			    m->has_subject ? &m->subject : NULL;
			uint64_t *v;
			if (d == NULL)
				continue;
			v = dset_add(marks, d);
			if ((uint32_t)*v != ri + 1)
				*v = ((*v >> 32) + 1) << 32 | (ri + 1);
		}
	}
}

/* Bytes repository r uses, and those no other repository uses. */
static void
usage_repo(struct grepo *r, uint32_t ri, const struct dset *marks,
    const struct dset *sizes, struct dset *seen)
{
	r->bytes = r->alone = 0;
	for (size_t i = 0; i < r->nrevs; i++) {
		const struct gman *m = &r->revs[i];
		if (m->gone)
			continue;
		for (size_t k = 0; k <= m->nrefs; k++) {
			const struct digest *d = k ? &m->refs[k - 1] : &m->d;
			uint64_t *size = dset_get(sizes, d), *v = dset_add(seen,
			    d);
			if (size == NULL || *v == ri + 1)
				continue;
			*v = ri + 1;
			r->bytes += *size;
			if ((*dset_get(marks, d) >> 32) == 1)
				r->alone += *size;
		}
	}
}

void
plan_blobs(struct gscan *s, const struct gplan_conf *pc)
{
	struct dset marks, young, sizes, seen;

	dset_init(&marks);
	dset_init(&young);
	dset_init(&sizes);
	dset_init(&seen);
	for (size_t i = 0; i < s->nrepos; i++) {
		const struct grepo *r = &s->repos[i];
		mark_repo(&marks, r, (uint32_t)i);
		for (size_t k = 0; k < r->nlayers; k++)
			if (pc->now - r->layers[k].mtime < pc->grace)
				(void)dset_add(&young, &r->layers[k].d);
	}
	for (size_t i = 0; i < s->nblobs; i++) {
		struct gblob *b = &s->blobs[i];
		*dset_add(&sizes, &b->d) = b->size;
		b->del = dset_get(&marks, &b->d) == NULL &&
		    dset_get(&young, &b->d) == NULL &&
		    pc->now - b->mtime >= pc->grace;
	}
	for (size_t i = 0; i < s->nrepos; i++)
		usage_repo(&s->repos[i], (uint32_t)i, &marks, &sizes, &seen);
	dset_clear(&marks);
	dset_clear(&young);
	dset_clear(&sizes);
	dset_clear(&seen);
}
