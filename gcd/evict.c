/*
 * evict.c - the size limit of a pull-through cache (cache.max_size).  An
 * image of a cached repository is a manifest no other kept manifest of
 * that repository names as a child or subject (its root), with the
 * children and referrers it reaches; its last pull is the latest of its
 * manifests' revision link times and its tags'.  The cache holds the
 * blobs kept manifests of cached repositories use and no local one does,
 * each counted once; images go, least recently pulled first, until that
 * is within the limit.  A blob several images share is freed with the
 * last of them.  The deletes go through the same phases as retention's.
 */
#include <stdlib.h>
#include <string.h>

#include "dset.h"
#include "gcd.h"
#include "util.h"

#define NONE	SIZE_MAX

struct unit {
	struct grepo	*r;
	size_t		 root;
	int64_t		 last;
	size_t		 b0, nb;	/* its blobs, in ec.bv */
	size_t		 m0, nm;	/* its manifests, in ec.mv */
};

struct ectx {
	struct unit	*u;
	size_t		 nu;
	const struct digest **bv;
	size_t		 nbv;
	size_t		*mv;
	size_t		 nmv;
	struct dset	 local;		/* used by a kept local manifest */
	struct dset	 count;		/* images using it << 32 | last + 1 */
	struct dset	 sizes;
};

/* Per repository while its images are found. */
struct rview {
	size_t		*rhead, *rnext;	/* referrers of each revision */
	int		*child;		/* a kept index names it */
	int64_t		*tagged;	/* latest kept tag naming it */
	uint32_t	*stamp;		/* image number + 1 that reached it */
	size_t		*stack;
};

static void
bv_push(struct ectx *ec, const struct digest *d)
{
	uint64_t *v = dset_add(&ec->count, d);
	uint32_t id = (uint32_t)ec->nu + 1;

	if ((uint32_t)*v == id)
		return;		/* once per image */
	*v = ((*v >> 32) + 1) << 32 | id;
	if ((ec->nbv & (ec->nbv - 1)) == 0)
		ec->bv = xreallocarray(ec->bv, ec->nbv ? ec->nbv * 2 : 1,
		    sizeof(*ec->bv));
	ec->bv[ec->nbv++] = d;
}

static void
mv_push(struct ectx *ec, size_t i)
{
	if ((ec->nmv & (ec->nmv - 1)) == 0)
		ec->mv = xreallocarray(ec->mv, ec->nmv ? ec->nmv * 2 : 1,
		    sizeof(*ec->mv));
	ec->mv[ec->nmv++] = i;
}

/* The index of revision d in r, or NONE. */
static size_t
rev_index(const struct grepo *r, const struct digest *d)
{
	const struct gman *m = plan_rev(r, d);

	return m ? (size_t)(m - r->revs) : NONE;
}

/* What r's kept manifests name, for images to be found from. */
static void
rview_make(struct rview *v, const struct grepo *r)
{
	size_t n = r->nrevs ? r->nrevs : 1, j;

	v->rhead = xcalloc(n, sizeof(*v->rhead));
	v->rnext = xcalloc(n, sizeof(*v->rnext));
	v->child = xcalloc(n, sizeof(*v->child));
	v->tagged = xcalloc(n, sizeof(*v->tagged));
	v->stamp = xcalloc(n, sizeof(*v->stamp));
	v->stack = xcalloc(n, sizeof(*v->stack));
	for (size_t i = 0; i < r->nrevs; i++)
		v->rhead[i] = v->rnext[i] = NONE;
	for (size_t i = 0; i < r->nrevs; i++) {
		const struct gman *m = &r->revs[i];
		if (m->del)
			continue;
		if (m->has_subject && (j = rev_index(r, &m->subject)) != NONE) {
			v->rnext[i] = v->rhead[j];
			v->rhead[j] = i;
		}
		for (size_t k = 0; m->is_index && k < m->nrefs; k++)
			if ((j = rev_index(r, &m->refs[k])) != NONE)
				v->child[j] = 1;
	}
	for (size_t i = 0; i < r->ntags; i++)
		if (!r->tags[i].del && (j = rev_index(r, &r->tags[i].d)) !=
		    NONE && r->tags[i].mtime > v->tagged[j])
			v->tagged[j] = r->tags[i].mtime;
}

static void
rview_free(struct rview *v)
{
	free(v->rhead);
	free(v->rnext);
	free(v->child);
	free(v->tagged);
	free(v->stamp);
	free(v->stack);
}

/* 1 if revision i of r starts an image: kept, named by no kept one. */
static int
is_root(const struct grepo *r, const struct rview *v, size_t i)
{
	const struct gman *m = &r->revs[i];
	size_t j;

	if (m->del || v->child[i])
		return 0;
	return !m->has_subject || (j = rev_index(r, &m->subject)) == NONE ||
	    r->revs[j].del;
}

/* Revision j joins image ec->u[ec->nu]: its blobs, its time. */
static void
unit_visit(struct ectx *ec, struct grepo *r, struct rview *v, size_t j,
    size_t *sp)
{
	struct unit *u = &ec->u[ec->nu];
	const struct gman *m = &r->revs[j];
	size_t c;

	mv_push(ec, j);
	bv_push(ec, &m->d);
	for (size_t k = 0; k < m->nrefs; k++)
		bv_push(ec, &m->refs[k]);
	if (m->mtime > u->last)
		u->last = m->mtime;
	if (v->tagged[j] > u->last)
		u->last = v->tagged[j];
	for (size_t k = 0; m->is_index && k < m->nrefs; k++)
		if ((c = rev_index(r, &m->refs[k])) != NONE &&
		    !r->revs[c].del && v->stamp[c] != ec->nu + 1) {
			v->stamp[c] = (uint32_t)ec->nu + 1;
			v->stack[(*sp)++] = c;
		}
	for (c = v->rhead[j]; c != NONE; c = v->rnext[c])
		if (v->stamp[c] != ec->nu + 1) {
			v->stamp[c] = (uint32_t)ec->nu + 1;
			v->stack[(*sp)++] = c;
		}
}

/* The images of cached repository r. */
static void
repo_units(struct ectx *ec, struct grepo *r)
{
	struct rview v;
	size_t sp;

	rview_make(&v, r);
	for (size_t i = 0; i < r->nrevs; i++) {
		if (!is_root(r, &v, i))
			continue;
		if ((ec->nu & (ec->nu - 1)) == 0)
			ec->u = xreallocarray(ec->u, ec->nu ? ec->nu * 2 : 1,
			    sizeof(*ec->u));
		memset(&ec->u[ec->nu], 0, sizeof(ec->u[ec->nu]));
		ec->u[ec->nu].r = r;
		ec->u[ec->nu].root = i;
		ec->u[ec->nu].b0 = ec->nbv;
		ec->u[ec->nu].m0 = ec->nmv;
		v.stamp[i] = (uint32_t)ec->nu + 1;
		v.stack[0] = i;
		for (sp = 1; sp > 0;)
			unit_visit(ec, r, &v, v.stack[--sp], &sp);
		ec->u[ec->nu].nb = ec->nbv - ec->u[ec->nu].b0;
		ec->u[ec->nu].nm = ec->nmv - ec->u[ec->nu].m0;
		ec->nu++;
	}
	rview_free(&v);
}

/* What kept manifests of local repositories use. */
static void
local_marks(struct ectx *ec, const struct gscan *s)
{
	for (size_t i = 0; i < s->nrepos; i++) {
		const struct grepo *r = &s->repos[i];
		for (size_t k = 0; !r->cached && k < r->nrevs; k++) {
			const struct gman *m = &r->revs[k];
			if (m->del)
				continue;
			(void)dset_add(&ec->local, &m->d);
			for (size_t j = 0; j < m->nrefs; j++)
				(void)dset_add(&ec->local, &m->refs[j]);
		}
	}
}

/* Bytes of blob d the cache alone holds (0 if a local repo uses it). */
static uint64_t
cache_bytes(const struct ectx *ec, const struct digest *d)
{
	uint64_t *size = dset_get(&ec->sizes, d);

	if (size == NULL || dset_get(&ec->local, d) != NULL)
		return 0;
	return *size;
}

static const struct ectx *sort_ec;

/* Least recently pulled first; ties by repository, then digest. */
static int
unit_cmp(const void *a, const void *b)
{
	const struct unit *x = &sort_ec->u[*(const size_t *)a];
	const struct unit *y = &sort_ec->u[*(const size_t *)b];
	int c;

	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	if ((c = strcmp(x->r->name, y->r->name)) != 0)
		return c;
	return strcmp(x->r->revs[x->root].d.hex, y->r->revs[y->root].d.hex);
}

/* Image u goes: the blobs only it still used leave the cache's bytes. */
static void
unit_evict(struct ectx *ec, const struct unit *u, struct gevict *ev)
{
	for (size_t k = 0; k < u->nb; k++) {
		const struct digest *d = ec->bv[u->b0 + k];
		uint64_t *v = dset_get(&ec->count, d);
		*v -= 1ULL << 32;
		if ((*v >> 32) == 0)
			ev->after -= cache_bytes(ec, d);
	}
	for (size_t k = 0; k < u->nm; k++)
		u->r->revs[ec->mv[u->m0 + k]].evict = 1;
	ev->images++;
}

/* A manifest a kept one still names as a child, or whose subject stays,
 * stays; the tags of what goes go with it. */
static void
evict_apply(struct grepo *r)
{
	int changed = 1;
	struct gman *c;

	for (size_t i = 0; i < r->nrevs; i++)
		r->revs[i].del |= r->revs[i].evict;
	while (changed) {
		changed = 0;
		for (size_t i = 0; i < r->nrevs; i++) {
			struct gman *m = &r->revs[i];
			for (size_t k = 0; !m->del && m->is_index &&
			    k < m->nrefs; k++)
				if ((c = plan_rev(r, &m->refs[k])) && c->evict)
					changed = 1, c->evict = c->del = 0;
			if (m->evict && m->has_subject && (c = plan_rev(r,
			    &m->subject)) && !c->del)
				changed = 1, m->evict = m->del = 0;
		}
	}
	for (size_t i = 0; i < r->ntags; i++)
		if ((c = plan_rev(r, &r->tags[i].d)) != NULL && c->evict)
			r->tags[i].del = 1;
}

/* The images, in order, until the cache fits. */
static void
evict_order(struct ectx *ec, const struct gplan_conf *pc, struct gevict *ev)
{
	size_t *order = xcalloc(ec->nu ? ec->nu : 1, sizeof(*order));

	for (size_t i = 0; i < ec->nu; i++)
		order[i] = i;
	sort_ec = ec;
	if (ec->nu > 1)
		qsort(order, ec->nu, sizeof(*order), unit_cmp);
	for (size_t i = 0; i < ec->nu && ev->after > pc->max_size; i++) {
		const struct unit *u = &ec->u[order[i]];
		if (pc->now - u->last < pc->grace) {
			ev->short_ = 1;	/* and every later one is younger */
			break;
		}
		unit_evict(ec, u, ev);
	}
	free(order);
}

void
plan_evict(struct gscan *s, const struct gplan_conf *pc, struct gevict *ev)
{
	struct ectx ec;
	uint64_t *v;

	memset(ev, 0, sizeof(*ev));
	memset(&ec, 0, sizeof(ec));
	dset_init(&ec.local);
	dset_init(&ec.count);
	dset_init(&ec.sizes);
	for (size_t i = 0; i < s->nblobs; i++)
		*dset_add(&ec.sizes, &s->blobs[i].d) = s->blobs[i].size;
	local_marks(&ec, s);
	for (size_t i = 0; i < s->nrepos; i++)
		if (s->repos[i].cached)
			repo_units(&ec, &s->repos[i]);
	for (size_t i = 0; i < s->nblobs; i++)
		if ((v = dset_get(&ec.count, &s->blobs[i].d)) && (*v >> 32))
			ev->before += cache_bytes(&ec, &s->blobs[i].d);
	ev->after = ev->before;
	if (pc->max_size > 0 && ev->before > pc->max_size) {
		evict_order(&ec, pc, ev);
		for (size_t i = 0; i < s->nrepos; i++)
			if (s->repos[i].cached)
				evict_apply(&s->repos[i]);
	}
	free(ec.u);
	free(ec.bv);
	free(ec.mv);
	dset_clear(&ec.local);
	dset_clear(&ec.count);
	dset_clear(&ec.sizes);
}
