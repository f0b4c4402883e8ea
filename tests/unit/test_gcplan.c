/* test_gcplan.c - gcd's plan (gcd/plan.c) on stores built in memory: which
 * manifests gc.untagged and retention delete (an index's children and a
 * kept manifest's referrers stay, a manifest that loses its last tag goes
 * with what only it reached), which blobs the mark leaves unmarked, and the
 * usage per repository (shared blobs, what a repository alone holds). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcd.h"
#include "retention.h"
#include "util.h"
#include "unit.h"

#define NOW	1000000

/* Digest number n. */
static struct digest
dg(int n)
{
	struct digest d;

	memset(&d, 0, sizeof(d));
	d.alg = DIGEST_SHA256;
	(void)snprintf(d.hex, sizeof(d.hex), "%064x", n);
	return d;
}

/* Revision n of r (revisions must be added in digest order) naming refs. */
static struct gman *
rev(struct grepo *r, int n, int64_t age, const int *refs, size_t nrefs)
{
	struct gman *m;

	r->revs = xreallocarray(r->revs, r->nrevs + 1, sizeof(*r->revs));
	m = &r->revs[r->nrevs++];
	memset(m, 0, sizeof(*m));
	m->d = dg(n);
	m->mtime = NOW - age;
	m->refs = xcalloc(nrefs + 1, sizeof(*m->refs));
	for (size_t i = 0; i < nrefs; i++)
		m->refs[i] = dg(refs[i]);
	m->nrefs = nrefs;
	return m;
}

static void
tag(struct grepo *r, const char *name, int n, int64_t age)
{
	r->tags = xreallocarray(r->tags, r->ntags + 1, sizeof(*r->tags));
	memset(&r->tags[r->ntags], 0, sizeof(*r->tags));
	r->tags[r->ntags].name = xstrdup(name);
	r->tags[r->ntags].d = dg(n);
	r->tags[r->ntags++].mtime = NOW - age;
}

static struct grepo *
repo(struct gscan *s, const char *name)
{
	s->repos = xreallocarray(s->repos, s->nrepos + 1, sizeof(*s->repos));
	memset(&s->repos[s->nrepos], 0, sizeof(*s->repos));
	s->repos[s->nrepos].name = xstrdup(name);
	return &s->repos[s->nrepos++];
}

static void
blob(struct gscan *s, int n, uint64_t size, int64_t age)
{
	s->blobs = xreallocarray(s->blobs, s->nblobs + 1, sizeof(*s->blobs));
	memset(&s->blobs[s->nblobs], 0, sizeof(*s->blobs));
	s->blobs[s->nblobs].d = dg(n);
	s->blobs[s->nblobs].size = size;
	s->blobs[s->nblobs++].mtime = NOW - age;
}

static int
blob_del(const struct gscan *s, int n)
{
	struct digest d = dg(n);

	for (size_t i = 0; i < s->nblobs; i++)
		if (digest_equal(&s->blobs[i].d, &d))
			return s->blobs[i].del;
	ck_abort_msg("no blob %d", n);
	return -1;
}

/* Deleted revisions are gone, as storaged would make them. */
static void
apply(struct gscan *s)
{
	for (size_t i = 0; i < s->nrepos; i++)
		for (size_t k = 0; k < s->repos[i].nrevs; k++)
			s->repos[i].revs[k].gone = s->repos[i].revs[k].del;
}

/* Repository a: image 10 (config 1, layers 2 3) tagged; index 20 (children
 * 21 22, each naming layer 4) untagged; referrer 30 of 10 untagged (layer
 * 5); image 40 (layer 6) untagged and young.  Repository b: image 50
 * (config 7, layers 2 8) tagged. */
static void
store(struct gscan *s)
{
	static const int i10[] = { 1, 2, 3 }, i20[] = { 21, 22 }, c[] = { 4 },
	    r30[] = { 5 }, i40[] = { 6 }, i50[] = { 7, 2, 8 };
	struct grepo *a, *b;
	struct gman *m;

	memset(s, 0, sizeof(*s));
	a = repo(s, "a");
	rev(a, 10, 5000, i10, 3);
	rev(a, 20, 5000, i20, 2)->is_index = 1;
	rev(a, 21, 5000, c, 1);
	rev(a, 22, 5000, c, 1);
	m = rev(a, 30, 5000, r30, 1);
	m->has_subject = 1;
	m->subject = dg(10);
	rev(a, 40, 10, i40, 1);
	tag(a, "v1", 10, 100);
	b = repo(s, "b");
	rev(b, 50, 5000, i50, 3);
	tag(b, "v1", 50, 100);
	for (int n = 1; n <= 8; n++)
		blob(s, n, 100, 5000);
	for (int n = 10; n <= 50; n += 10)
		blob(s, n, 10, 5000);
	blob(s, 21, 10, 5000);
	blob(s, 22, 10, 5000);
	blob(s, 99, 1000, 5000);	/* nothing names it */
	blob(s, 98, 1000, 1);		/* nothing names it, young */
}

START_TEST(untagged_off_keeps_manifests)
{
	struct gplan_conf pc = { NULL, 0, 0, 60, NOW };
	struct gscan s;

	store(&s);
	plan_manifests(&s, &pc);
	for (size_t i = 0; i < s.repos[0].nrevs; i++)
		ck_assert_int_eq(s.repos[0].revs[i].del, 0);
	apply(&s);
	plan_blobs(&s, &pc);
	ck_assert_int_eq(blob_del(&s, 99), 1);
	ck_assert_int_eq(blob_del(&s, 98), 0);	/* gc.grace */
	for (int n = 1; n <= 8; n++)
		ck_assert_int_eq(blob_del(&s, n), 0);
	scan_free(&s);
}
END_TEST

START_TEST(untagged_on)
{
	struct gplan_conf pc = { NULL, 0, 1, 60, NOW };
	struct gscan s;

	store(&s);
	plan_manifests(&s, &pc);
	ck_assert_int_eq(s.repos[0].revs[0].del, 0);	/* 10: tagged */
	ck_assert_int_eq(s.repos[0].revs[1].del, 1);	/* 20: untagged index */
	ck_assert_int_eq(s.repos[0].revs[2].del, 1);	/* 21 */
	ck_assert_int_eq(s.repos[0].revs[3].del, 1);	/* 22 */
	ck_assert_int_eq(s.repos[0].revs[4].del, 0);	/* 30: referrer of 10 */
	ck_assert_int_eq(s.repos[0].revs[5].del, 0);	/* 40: young */
	apply(&s);
	plan_blobs(&s, &pc);
	ck_assert_int_eq(blob_del(&s, 4), 1);	/* only 21 and 22 named it */
	ck_assert_int_eq(blob_del(&s, 20), 1);
	ck_assert_int_eq(blob_del(&s, 5), 0);
	ck_assert_int_eq(blob_del(&s, 2), 0);	/* shared by a and b */
	ck_assert_int_eq(blob_del(&s, 6), 0);
	/* usage: a holds 1 2 3 5 6 (100 each) and 10 30 40 (10 each) */
	ck_assert_uint_eq(s.repos[0].bytes, 530);
	ck_assert_uint_eq(s.repos[0].alone, 430);	/* 2 is b's too */
	ck_assert_uint_eq(s.repos[1].bytes, 310);
	ck_assert_uint_eq(s.repos[1].alone, 210);
	scan_free(&s);
}
END_TEST

/* A tagged index keeps its children though they are untagged. */
START_TEST(index_children_kept)
{
	struct gplan_conf pc = { NULL, 0, 1, 60, NOW };
	struct gscan s;

	store(&s);
	tag(&s.repos[0], "idx", 20, 100);
	plan_manifests(&s, &pc);
	ck_assert_int_eq(s.repos[0].revs[1].del, 0);
	ck_assert_int_eq(s.repos[0].revs[2].del, 0);
	ck_assert_int_eq(s.repos[0].revs[3].del, 0);
	scan_free(&s);
}
END_TEST

/* Retention drops a's only tag: 10 goes, with its referrer 30, even with
 * gc.untagged off; b's tag is not a's policy's. */
START_TEST(retention_drops)
{
	struct retention_rule r = { "a", 0, "", 50, 0 };
	struct gplan_conf pc = { &r, 1, 0, 60, NOW };
	struct gscan s;

	store(&s);
	plan_manifests(&s, &pc);
	ck_assert_int_eq(s.repos[0].tags[0].del, 1);
	ck_assert_int_eq(s.repos[0].revs[0].del, 1);	/* 10 */
	ck_assert_int_eq(s.repos[0].revs[4].del, 1);	/* 30 */
	ck_assert_int_eq(s.repos[0].revs[1].del, 0);	/* 20: untagged off */
	ck_assert_int_eq(s.repos[1].tags[0].del, 0);
	apply(&s);
	plan_blobs(&s, &pc);
	ck_assert_int_eq(blob_del(&s, 1), 1);
	ck_assert_int_eq(blob_del(&s, 3), 1);
	ck_assert_int_eq(blob_del(&s, 2), 0);	/* b still uses it */
	scan_free(&s);
}
END_TEST

/* Local repository app: image 10 (config 1, layer 2).  Cached: hub/x image
 * 20 (3, 2 shared with app, 4), pulled 3000 s ago; hub/y image 30 (5, 4
 * shared with hub/x, 6) pulled 2000 s ago with referrer 35 (layer 9);
 * hub/z index 40 (children 41, 42: layers 7, 8) whose child 41 was
 * pulled 100 s ago.  Layers 100 bytes, manifests 10: the cache holds 760
 * (layer 2 is local's). */
static void
cache_store(struct gscan *s)
{
	static const int i10[] = { 1, 2 }, i20[] = { 3, 2, 4 },
	    i30[] = { 5, 4, 6 }, r35[] = { 9 }, i40[] = { 41, 42 },
	    c41[] = { 7 }, c42[] = { 8 };
	struct grepo *r;
	struct gman *m;

	memset(s, 0, sizeof(*s));
	r = repo(s, "app");
	rev(r, 10, 9000, i10, 2);
	tag(r, "v1", 10, 9000);
	r = repo(s, "hub/x");
	r->cached = 1;
	rev(r, 20, 3000, i20, 3);
	tag(r, "v1", 20, 3000);
	r = repo(s, "hub/y");
	r->cached = 1;
	rev(r, 30, 2000, i30, 3);
	m = rev(r, 35, 4000, r35, 1);
	m->has_subject = 1;
	m->subject = dg(30);
	tag(r, "v1", 30, 2000);
	r = repo(s, "hub/z");
	r->cached = 1;
	rev(r, 40, 5000, i40, 2)->is_index = 1;
	rev(r, 41, 100, c41, 1);
	rev(r, 42, 5000, c42, 1);
	tag(r, "latest", 40, 5000);
	for (int n = 1; n <= 9; n++)
		blob(s, n, 100, 9000);
	for (int n = 10; n <= 42; n++)
		blob(s, n, 10, 9000);
}

/* Plan with max_size max and grace: manifests, then the eviction. */
static void
evict_with(struct gscan *s, uint64_t max, int64_t grace, struct gevict *ev)
{
	struct gplan_conf pc = { NULL, 0, 0, grace, NOW, max };

	plan_manifests(s, &pc);
	plan_evict(s, &pc, ev);
}

START_TEST(evict_least_recently_pulled)
{
	struct gevict ev;
	struct gscan s;

	cache_store(&s);
	evict_with(&s, 700, 60, &ev);
	ck_assert_uint_eq(ev.before, 760);
	/* layer 4 stays with hub/y: only 20 and 3 leave */
	ck_assert_uint_eq(ev.after, 650);
	ck_assert_uint_eq(ev.images, 1);
	ck_assert_int_eq(s.repos[1].revs[0].del, 1);
	ck_assert_int_eq(s.repos[1].revs[0].evict, 1);
	ck_assert_int_eq(s.repos[1].tags[0].del, 1);
	ck_assert_int_eq(s.repos[2].revs[0].del, 0);
	ck_assert_int_eq(s.repos[2].tags[0].del, 0);
	ck_assert_int_eq(s.repos[0].revs[0].del, 0);
	scan_free(&s);
	cache_store(&s);
	evict_with(&s, 600, 60, &ev);
	ck_assert_uint_eq(ev.after, 230);
	ck_assert_uint_eq(ev.images, 2);
	ck_assert_int_eq(s.repos[2].revs[0].del, 1);	/* 30 */
	ck_assert_int_eq(s.repos[2].revs[1].del, 1);	/* its referrer */
	ck_assert_int_eq(s.repos[2].tags[0].del, 1);
	for (size_t i = 0; i < 3; i++)	/* 41's pull keeps the index */
		ck_assert_int_eq(s.repos[3].revs[i].del, 0);
	ck_assert_int_eq(s.repos[0].revs[0].del, 0);	/* local: never */
	ck_assert_int_eq(s.repos[0].tags[0].del, 0);
	apply(&s);
	plan_blobs(&s, &(struct gplan_conf){ NULL, 0, 0, 60, NOW, 600 });
	ck_assert_int_eq(blob_del(&s, 2), 0);	/* app's layer */
	ck_assert_int_eq(blob_del(&s, 4), 1);
	ck_assert_int_eq(blob_del(&s, 7), 0);
	scan_free(&s);
}
END_TEST

START_TEST(evict_none_under_limit_or_young)
{
	struct gevict ev;
	struct gscan s;

	cache_store(&s);
	evict_with(&s, 760, 60, &ev);
	ck_assert_uint_eq(ev.images, 0);
	evict_with(&s, 0, 60, &ev);		/* no limit */
	ck_assert_uint_eq(ev.images, 0);
	for (size_t i = 0; i < s.nrepos; i++)
		for (size_t k = 0; k < s.repos[i].nrevs; k++)
			ck_assert_int_eq(s.repos[i].revs[k].del, 0);
	scan_free(&s);
	cache_store(&s);
	evict_with(&s, 1, 2500, &ev);	/* hub/y was pulled 2000 s ago */
	ck_assert_uint_eq(ev.images, 1);
	ck_assert_int_eq(ev.short_, 1);
	ck_assert_int_eq(s.repos[2].revs[0].del, 0);
	scan_free(&s);
}
END_TEST

/* Cached hub/w: index 50 (children 51, 52) tagged 3000 s ago, index 60
 * (children 52, 53) pulled 30 s ago, within gc.grace. */
START_TEST(evict_shared_child_stays)
{
	static const int i50[] = { 51, 52 }, i60[] = { 52, 53 }, l[] = { 1 };
	struct gevict ev;
	struct gscan s;
	struct grepo *r;

	memset(&s, 0, sizeof(s));
	r = repo(&s, "hub/w");
	r->cached = 1;
	rev(r, 50, 3000, i50, 2)->is_index = 1;
	rev(r, 51, 3000, l, 1);
	rev(r, 52, 3000, l, 1);
	rev(r, 53, 30, l, 1);
	rev(r, 60, 30, i60, 2)->is_index = 1;
	tag(r, "old", 50, 3000);
	tag(r, "new", 60, 30);
	blob(&s, 1, 100, 9000);
	for (int n = 50; n <= 60; n++)
		blob(&s, n, 10, 9000);
	evict_with(&s, 1, 60, &ev);
	ck_assert_uint_eq(ev.before, 150);
	ck_assert_uint_eq(ev.after, 130);	/* 50 and 51 */
	ck_assert_int_eq(ev.short_, 1);
	ck_assert_int_eq(r->revs[0].del, 1);
	ck_assert_int_eq(r->revs[1].del, 1);
	ck_assert_int_eq(r->revs[2].del, 0);	/* 60 names it */
	ck_assert_int_eq(r->revs[2].evict, 0);
	ck_assert_int_eq(r->revs[4].del, 0);
	ck_assert_int_eq(r->tags[0].del, 1);
	ck_assert_int_eq(r->tags[1].del, 0);
	scan_free(&s);
}
END_TEST

/* Retention in a cached repository counts from the last pull. */
START_TEST(retention_by_last_pull)
{
	struct retention_rule rule = { "*", 0, "", 1000, 0 };
	struct gplan_conf pc = { &rule, 1, 0, 60, NOW };
	static const int l[] = { 1 };
	struct gscan s;
	struct grepo *a, *c;

	memset(&s, 0, sizeof(s));
	a = repo(&s, "app");
	rev(a, 10, 10, l, 1);		/* pulled: local ignores it */
	tag(a, "v1", 10, 5000);
	c = repo(&s, "hub/c");
	c->cached = 1;
	rev(c, 10, 10, l, 1);		/* pulled 10 s ago */
	rev(c, 11, 5000, l, 1);
	tag(c, "v1", 10, 5000);
	tag(c, "v2", 11, 5000);
	plan_manifests(&s, &pc);
	ck_assert_int_eq(a->tags[0].del, 1);
	ck_assert_int_eq(c->tags[0].del, 0);
	ck_assert_int_eq(c->tags[1].del, 1);
	scan_free(&s);
}
END_TEST

int
main(void)
{
	Suite *su = suite_create("gcplan");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, untagged_off_keeps_manifests);
	tcase_add_test(tc, untagged_on);
	tcase_add_test(tc, index_children_kept);
	tcase_add_test(tc, retention_drops);
	tcase_add_test(tc, evict_least_recently_pulled);
	tcase_add_test(tc, evict_none_under_limit_or_young);
	tcase_add_test(tc, evict_shared_child_stays);
	tcase_add_test(tc, retention_by_last_pull);
	suite_add_tcase(su, tc);
	return unit_run(su);
}
