/*
 * genstore.c - write a synthetic big registry store straight to disk, in the
 * Docker Distribution 2.x layout that storaged and docker-registry 2.8 read,
 * so that index build, restart and listing costs can be measured on stores
 * of a year's size without pushing them (pushing 200,000 manifests through
 * a registry takes hours; writing them takes a minute).
 *
 * usage: genstore [options] DIR   (DIR/docker/registry/v2 is written)
 *   -r N   repositories (default 1000); names are flat (app7), nested
 *          (team7/app8), nested under another repository (team7/app8/cache)
 *          and three deep (org1/team8/img9)
 *   -m N   manifests, spread evenly over the repositories (default 3000)
 *   -t N   tags per manifest (default 1)
 *   -l N   layers per manifest (default 2)
 *   -s P   percent of layers taken from the shared pool (default 50)
 *   -p N   shared layer pool size (default 200)
 *   -d P   percent of manifests in Docker schema2 rather than OCI (default 20)
 *   -u P   percent of images left unreachable, as a deleted manifest leaves
 *          them: blobs and layer links, no revision link, no tag (default
 *          0; for gc benchmarks)
 *   -T N   also write repository bench/manytags with N tags, one manifest
 *          each (default 0)
 *   -S N   seed (default 1): the same options and seed give the same bytes
 *   -e F   write the expectations to F: "repo NAME MANIFESTS TAGS" and
 *          "tag REPO TAG DIGEST MEDIATYPE CONFIG_DIGEST" lines
 *   -q     no summary on stderr
 *   -x     write nothing: evict DIR's store files from the page cache (write
 *          back, then POSIX_FADV_DONTNEED each), so the next reader of the
 *          store goes to the disk, without root's drop_caches and without
 *          making the rest of the machine cold
 *
 * Blobs are tens of bytes: what is measured is the metadata, not the disk.
 * Layers claim the uncompressed tar media type so that the config's diff_ids
 * are simply their digests; no registry looks inside a layer.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <err.h>
#include <ftw.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#define HEXLEN		64
#define PATH_MAX_GS	1024
#define BODY_MAX	8192
#define LAYERS_MAX	64
#define MANYTAGS_REPO	"bench/manytags"

#define MT_OCI_MANIFEST	"application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG	"application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER	"application/vnd.oci.image.layer.v1.tar"
#define MT_DK_MANIFEST	"application/vnd.docker.distribution.manifest.v2+json"
#define MT_DK_CONFIG	"application/vnd.docker.container.image.v1+json"
#define MT_DK_LAYER	"application/vnd.docker.image.rootfs.diff.tar.gzip"

struct opts {
	unsigned long repos, manifests, tags, layers, shared, pool, docker;
	unsigned long manytags, unreach;
	uint64_t seed;
	const char *expect, *dir;
	int quiet, evict;
};

struct blob {
	char hex[HEXLEN + 1];
	size_t size;
};

struct stats {
	unsigned long repos, manifests, tags, blobs, files, dirs, unreachable;
	unsigned long long bytes;
};

static struct opts o = { 1000, 3000, 1, 2, 50, 200, 20, 0, 0, 1, NULL, NULL, 0,
    0 };
static struct stats st;
static int rootfd = -1;
static uint64_t rng;
static EVP_MD_CTX *mdctx;
static const EVP_MD *sha256;
static unsigned char *pool_done;	/* shared layers already written */
static FILE *expect;

/* splitmix64: tiny, seedable, and the same on every platform. */
static uint64_t
rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
sha256_hex(const void *data, size_t len, char out[HEXLEN + 1])
{
	static const char hx[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t i;

	if (EVP_DigestInit_ex(mdctx, sha256, NULL) != 1 ||
	    EVP_DigestUpdate(mdctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(mdctx, md, &mdlen) != 1 || mdlen != 32)
		errx(1, "sha256 failed");
	for (i = 0; i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[HEXLEN] = '\0';
}

static void	pathf(char *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* snprintf into a PATH_MAX_GS buffer; a truncated path is fatal. */
static void
pathf(char *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, PATH_MAX_GS, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= PATH_MAX_GS)
		errx(1, "path too long");
}

/* mkdir -p relative to the store root; most parents exist, so try the
 * directory itself first and climb only on ENOENT. */
static void
mkdirs(char *path)
{
	char *slash;

	if (mkdirat(rootfd, path, 0777) == 0) {
		st.dirs++;
		return;
	}
	if (errno == EEXIST)
		return;
	if (errno != ENOENT || (slash = strrchr(path, '/')) == NULL)
		err(1, "mkdir %s", path);
	*slash = '\0';
	mkdirs(path);
	*slash = '/';
	if (mkdirat(rootfd, path, 0777) == -1 && errno != EEXIST)
		err(1, "mkdir %s", path);
	st.dirs++;
}

/* Write a whole file, making its directory if needed. */
static void
put_file(char *path, const void *data, size_t len)
{
	char *slash;
	ssize_t n;
	int fd;

	fd = openat(rootfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0666);
	if (fd == -1 && errno == ENOENT && (slash = strrchr(path, '/'))) {
		*slash = '\0';
		mkdirs(path);
		*slash = '/';
		fd = openat(rootfd, path, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC | O_NOFOLLOW, 0666);
	}
	if (fd == -1)
		err(1, "open %s", path);
	if ((n = write(fd, data, len)) == -1 || (size_t)n != len)
		err(1, "write %s", path);
	if (close(fd) == -1)
		err(1, "close %s", path);
	st.files++;
	st.bytes += len;
}

/* A link file as Distribution writes it: "sha256:<hex>", no newline. */
static void
put_link(char *path, const char *hex)
{
	char s[8 + HEXLEN];

	(void)snprintf(s, sizeof(s), "sha256:%.64s", hex);
	put_file(path, s, strlen(s));
}

/* Store body as a blob and describe it in b. */
static void
put_blob(const char *body, size_t len, struct blob *b)
{
	char p[PATH_MAX_GS];

	sha256_hex(body, len, b->hex);
	b->size = len;
	pathf(p, "blobs/sha256/%.2s/%s/data", b->hex, b->hex);
	put_file(p, body, len);
	st.blobs++;
}

/* repositories/<repo>/_layers/sha256/<hex>/link */
static void
link_layer(const char *repo, const struct blob *b)
{
	char p[PATH_MAX_GS];

	pathf(p, "repositories/%s/_layers/sha256/%s/link", repo, b->hex);
	put_link(p, b->hex);
}

/* Layer k of a manifest: from the shared pool (written once per store) or
 * unique to this manifest. */
static void
make_layer(unsigned long id, unsigned long k, struct blob *b)
{
	char body[128];
	unsigned long n;
	int len;

	if (o.pool > 0 && rnd() % 100 < o.shared) {
		n = rnd() % o.pool;
		len = snprintf(body, sizeof(body),
		    "genstore shared layer %lu seed %" PRIu64 "\n", n, o.seed);
		if (pool_done[n]) {
			sha256_hex(body, (size_t)len, b->hex);
			b->size = (size_t)len;
			return;
		}
		pool_done[n] = 1;
	} else {
		len = snprintf(body, sizeof(body),
		    "genstore layer %lu.%lu %016" PRIx64 "\n", id, k, rnd());
	}
	put_blob(body, (size_t)len, b);
}

/* Append to a body buffer; overflow is fatal. */
static void	cat(char *, size_t *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
cat(char *buf, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf + *len, BODY_MAX - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= BODY_MAX - *len)
		errx(1, "body too long");
	*len += (size_t)n;
}

/* The image config: valid JSON whose diff_ids are the layers' digests. */
static void
make_config(const char *repo, unsigned long id, const struct blob *ls,
    unsigned long nl, struct blob *cfg)
{
	char body[BODY_MAX];
	size_t len = 0;
	unsigned long k;

	cat(body, &len, "{\"architecture\":\"amd64\",\"os\":\"linux\","
	    "\"created\":\"2026-01-01T00:00:00Z\",\"config\":{\"Labels\":"
	    "{\"genstore.repo\":\"%s\",\"genstore.id\":\"%lu\"}},"
	    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[", repo, id);
	for (k = 0; k < nl; k++)
		cat(body, &len, "%s\"sha256:%s\"", k ? "," : "", ls[k].hex);
	cat(body, &len, "]}}");
	put_blob(body, len, cfg);
}

/* The manifest body (OCI image manifest or Docker schema2) for cfg+ls. */
static size_t
manifest_body(char *body, int docker, const struct blob *cfg,
    const struct blob *ls, unsigned long nl)
{
	size_t len = 0;
	unsigned long k;

	cat(body, &len, "{\"schemaVersion\":2,\"mediaType\":\"%s\","
	    "\"config\":{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\","
	    "\"size\":%zu},\"layers\":[",
	    docker ? MT_DK_MANIFEST : MT_OCI_MANIFEST,
	    docker ? MT_DK_CONFIG : MT_OCI_CONFIG, cfg->hex, cfg->size);
	for (k = 0; k < nl; k++)
		cat(body, &len, "%s{\"mediaType\":\"%s\",\"digest\":"
		    "\"sha256:%s\",\"size\":%zu}", k ? "," : "",
		    docker ? MT_DK_LAYER : MT_OCI_LAYER, ls[k].hex,
		    ls[k].size);
	cat(body, &len, "]}");
	return len;
}

/* Point tag at manifest m in repo: current link and index entry. */
static void
put_tag(const char *repo, const char *tag, const struct blob *m,
    const char *mt, const struct blob *cfg)
{
	char p[PATH_MAX_GS];

	pathf(p, "repositories/%s/_manifests/tags/%s/current/link", repo, tag);
	put_link(p, m->hex);
	pathf(p, "repositories/%s/_manifests/tags/%s/index/sha256/%s/link",
	    repo, tag, m->hex);
	put_link(p, m->hex);
	st.tags++;
	if (expect != NULL && fprintf(expect, "tag %s %s sha256:%s %s "
	    "sha256:%s\n", repo, tag, m->hex, mt, cfg->hex) < 0)
		err(1, "write %s", o.expect);
}

/* Tag k of the nth manifest of a repository: v7 (or v7.0, v7.1 with
 * several tags a manifest); 1.0.7 in bench/manytags. */
static void
tag_name(char *out, size_t len, int many, unsigned long nth, unsigned long k)
{
	if (many)
		(void)snprintf(out, len, "1.0.%lu", nth);
	else if (o.tags > 1)
		(void)snprintf(out, len, "v%lu.%lu", nth, k);
	else
		(void)snprintf(out, len, "v%lu", nth);
}

/* One image in repo: layers, config, manifest, links, ntag tags. */
static void
make_image(const char *repo, unsigned long id, unsigned long nth,
    unsigned long ntag, int many)
{
	struct blob ls[LAYERS_MAX], cfg, m;
	char body[BODY_MAX], p[PATH_MAX_GS], tag[129];
	int docker = rnd() % 100 < o.docker;
	unsigned long k;
	size_t len;

	for (k = 0; k < o.layers; k++) {
		make_layer(id, k, &ls[k]);
		link_layer(repo, &ls[k]);
	}
	make_config(repo, id, ls, o.layers, &cfg);
	link_layer(repo, &cfg);
	len = manifest_body(body, docker, &cfg, ls, o.layers);
	put_blob(body, len, &m);
	if (!many && o.unreach > 0 && rnd() % 100 < o.unreach) {
		st.unreachable++;
		return;
	}
	pathf(p, "repositories/%s/_manifests/revisions/sha256/%s/link", repo,
	    m.hex);
	put_link(p, m.hex);
	st.manifests++;
	for (k = 0; k < ntag; k++) {
		tag_name(tag, sizeof(tag), many, nth, k);
		put_tag(repo, tag, &m, docker ? MT_DK_MANIFEST :
		    MT_OCI_MANIFEST, &cfg);
	}
}

/* The name of repository i: four shapes, all distinct. */
static void
repo_name(unsigned long i, char *out, size_t len)
{
	switch (i % 4) {
	case 0:
		(void)snprintf(out, len, "app%lu", i);
		break;
	case 1:
		(void)snprintf(out, len, "team%lu/app%lu", i % 50, i);
		break;
	case 2:	/* inside repository i - 1: a name continues a name */
		(void)snprintf(out, len, "team%lu/app%lu/cache", (i - 1) % 50,
		    i - 1);
		break;
	default:
		(void)snprintf(out, len, "org%lu/team%lu/img%lu", i % 7,
		    i % 50, i);
		break;
	}
}

static void
expect_repo(const char *name, unsigned long nman, unsigned long ntags)
{
	if (expect != NULL &&
	    fprintf(expect, "repo %s %lu %lu\n", name, nman, ntags) < 0)
		err(1, "write %s", o.expect);
	st.repos++;
}

/* Every repository with its share of the manifests, then bench/manytags. */
static void
generate(void)
{
	unsigned long nrepos, i, j, n, id = 0;
	char name[256];

	nrepos = o.repos < o.manifests ? o.repos : o.manifests;
	for (i = 0; i < nrepos; i++) {
		repo_name(i, name, sizeof(name));
		n = o.manifests / nrepos + (i < o.manifests % nrepos);
		expect_repo(name, n, n * o.tags);
		for (j = 0; j < n; j++)
			make_image(name, id++, j + 1, o.tags, 0);
	}
	if (o.manytags == 0)
		return;
	expect_repo(MANYTAGS_REPO, o.manytags, o.manytags);
	for (j = 0; j < o.manytags; j++)
		make_image(MANYTAGS_REPO, id++, j, 1, 1);
}

static unsigned long
num(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v > max)
		errx(2, "bad number %s (0..%lu)", s, max);
	return v;
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: genstore [-q] [-r repos] [-m manifests] "
	    "[-t tags] [-l layers] [-s shared%%] [-p pool] [-d docker%%] "
	    "[-u unreachable%%] [-T manytags] [-S seed] [-e expectfile] DIR\n");
	exit(2);
}

static void
parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "r:m:t:l:s:p:d:u:T:S:e:qx")) != -1) {
		switch (c) {
		case 'r': o.repos = num(optarg, 10000000); break;
		case 'm': o.manifests = num(optarg, 100000000); break;
		case 't': o.tags = num(optarg, 1000); break;
		case 'l': o.layers = num(optarg, LAYERS_MAX); break;
		case 's': o.shared = num(optarg, 100); break;
		case 'p': o.pool = num(optarg, 10000000); break;
		case 'd': o.docker = num(optarg, 100); break;
		case 'u': o.unreach = num(optarg, 100); break;
		case 'T': o.manytags = num(optarg, 1000000); break;
		case 'S': o.seed = num(optarg, ULONG_MAX); break;
		case 'e': o.expect = optarg; break;
		case 'q': o.quiet = 1; break;
		case 'x': o.evict = 1; break;
		default: usage();
		}
	}
	if (argc - optind != 1 || o.repos == 0)
		usage();
	o.dir = argv[optind];
}

static int evict_pass;	/* 0: start writeback, 1: wait for it and drop */

/* nftw callback of evict(): for one file, start its writeback (pass 0), or
 * wait for it and drop its now clean pages (pass 1): DONTNEED keeps dirty
 * pages, and waiting on this store's files alone (not syncfs) keeps another
 * writer on the same disk from making the eviction slow. */
static int
evict_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	unsigned int how = SYNC_FILE_RANGE_WRITE;
	int fd;

	if (type != FTW_F || !S_ISREG(sb->st_mode))
		return 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		warn("%s", path);
		return 0;
	}
	if (evict_pass == 1)
		how |= SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WAIT_AFTER;
	if (sync_file_range(fd, 0, 0, how) == -1)
		warn("sync_file_range %s", path);
	if (evict_pass == 1) {
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		st.files++;
	}
	close(fd);
	return 0;
}

/* -x: drop the store's files from the page cache; two walks, so that the
 * writeback of all of them is under way before the first wait. */
static void
evict(void)
{
	char p[PATH_MAX_GS];

	pathf(p, "%s/docker/registry/v2", o.dir);
	for (evict_pass = 0; evict_pass < 2; evict_pass++)
		if (nftw(p, evict_one, 64, FTW_PHYS | FTW_MOUNT) == -1)
			err(1, "walk %s", p);
	if (!o.quiet)
		fprintf(stderr, "genstore: %lu files evicted from the page "
		    "cache\n", st.files);
}

/* Open DIR/docker/registry/v2, making it. */
static void
open_root(void)
{
	char p[PATH_MAX_GS];
	int dfd;

	if ((dfd = open(o.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		err(1, "%s", o.dir);
	rootfd = dfd;
	pathf(p, "docker/registry/v2/repositories");
	mkdirs(p);
	pathf(p, "docker/registry/v2/blobs/sha256");
	mkdirs(p);
	if ((rootfd = openat(dfd, "docker/registry/v2", O_RDONLY |
	    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		err(1, "%s/docker/registry/v2", o.dir);
	close(dfd);
}

int
main(int argc, char **argv)
{
	struct timespec t0, t1;

	parse_args(argc, argv);
	if (o.evict) {
		evict();
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rng = o.seed;
	if ((sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (mdctx = EVP_MD_CTX_new()) == NULL)
		errx(1, "OpenSSL SHA-256 unavailable");
	if ((pool_done = calloc(o.pool ? o.pool : 1, 1)) == NULL)
		err(1, "calloc");
	if (o.expect && (expect = fopen(o.expect, "w")) == NULL)
		err(1, "%s", o.expect);
	open_root();
	generate();
	if (expect && fclose(expect) != 0)
		err(1, "%s", o.expect);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!o.quiet)
		fprintf(stderr, "genstore: %lu repositories, %lu manifests "
		    "(%lu unreachable), %lu tags, %lu blobs; %lu files, %lu "
		    "directories, %llu bytes in %.2f s\n", st.repos,
		    st.manifests + st.unreachable, st.unreachable, st.tags,
		    st.blobs, st.files, st.dirs, st.bytes,
		    (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	EVP_MD_CTX_free(mdctx);
	EVP_MD_free((EVP_MD *)sha256);
	free(pool_done);
	close(rootfd);
	return 0;
}
