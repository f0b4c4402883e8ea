/* test_conf.c - configuration: defaults serve, errors name file and line,
 * values are validated, printed defaults read back the same. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf_cache.h"
#include "conf_tunnel.h"
#include "unit.h"

static char path[] = "/tmp/test_conf.XXXXXX";

static int
load(const char *text, char *err, size_t errlen)
{
	struct conf *c = conf_new();
	int fd = mkstemp(path), r;
	FILE *fp = fdopen(fd, "w");

	fputs(text, fp);
	fclose(fp);
	r = conf_load_file(c, path, err, errlen);
	if (r == 0)
		conf_use(c);
	else
		conf_free(c);
	unlink(path);
	strcpy(path, "/tmp/test_conf.XXXXXX");
	return r;
}

/* err must hold ":LINE:" and the word. */
static void
expect_error(const char *text, int line, const char *word)
{
	char err[512], tag[32];

	ck_assert_int_eq(load(text, err, sizeof(err)), -1);
	snprintf(tag, sizeof(tag), ":%d:", line);
	ck_assert_msg(strstr(err, tag) != NULL, "no line %d in '%s'", line, err);
	ck_assert_msg(strstr(err, word) != NULL, "no '%s' in '%s'", word, err);
}

START_TEST(defaults_serve)
{
	size_t n;
	char *const *l;

	conf_use(conf_new());
	l = conf_list(P_HTTP_LISTEN, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(l[0], "127.0.0.1:5000");
	ck_assert_str_eq(conf_str(P_STORAGE_ROOT), "/var/lib/regmaster");
	ck_assert(conf_bool(P_W_HTTPD));
	ck_assert(!conf_bool(P_W_TUNNELD));
}
END_TEST

START_TEST(good_file_read)
{
	char err[512];
	size_t n;
	char *const *l;

	ck_assert_int_eq(load("run_dir = \"/tmp/r\";\n"
	    "http = { listen = [\"127.0.0.1:5001\", \"[::1]:5002\"];\n"
	    "  max_connections = 10; };\n"
	    "storage = { delete = true; };\n", err, sizeof(err)), 0);
	ck_assert_str_eq(conf_str(P_RUN_DIR), "/tmp/r");
	l = conf_list(P_HTTP_LISTEN, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(l[1], "[::1]:5002");
	ck_assert_int_eq(conf_int(P_HTTP_MAXCONN), 10);
	ck_assert(conf_bool(P_STORAGE_DELETE));
}
END_TEST

START_TEST(unknown_key_names_line)
{
	expect_error("run_dir = \"/tmp\";\n\nhttp = {\n  lisen = [\"a:1\"];\n};\n",
	    4, "http.lisen");
	expect_error("colour = \"blue\";\n", 1, "colour");
	expect_error("http = { tls = { cert = \"x\"; }; };\n", 1, "http.tls");
}
END_TEST

START_TEST(bad_values_name_line)
{
	expect_error("\nstorage = { delete = \"maybe\"; };\n", 2, "storage.delete");
	expect_error("http = {\n listen = [\"999.1.1.1:99999\"]; };\n", 2,
	    "http.listen");
	expect_error("http = { listen = [\"nocolon\"]; };\n", 1, "http.listen");
	expect_error("http = { max_connections = 0; };\n", 1, "max_connections");
	expect_error("storage = { root = \"relative/path\"; };\n", 1,
	    "storage.root");
	expect_error("storage = { root = \"/a/../b\"; };\n", 1, "storage.root");
	expect_error("log_level = \"loud\";\n", 1, "log_level");
	expect_error("users = { httpd = \"Bad User\"; };\n", 1, "users.httpd");
	expect_error("http = { header_timeout = -5; };\n", 1, "header_timeout");
}
END_TEST

START_TEST(syntax_error_names_line)
{
	expect_error("run_dir = \"/tmp\";\nhttp = { listen = [ };\n", 2, ":2:");
	expect_error("a = 1;\nb = ;\n", 2, ":2:");
}
END_TEST

START_TEST(conf_set_validates)
{
	struct conf *c = conf_new();
	char err[256];

	ck_assert_int_eq(conf_set(c, P_STORAGE_DELETE, "true", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(c->v[P_STORAGE_DELETE].i, 1);
	ck_assert_int_eq(conf_set(c, P_STORAGE_DELETE, "yes", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(c->v[P_STORAGE_DELETE].i, 1);	/* kept */
	ck_assert_int_eq(conf_set(c, P_HTTP_MAXCONN, "99999999999", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(conf_set(c, P_HTTP_LISTEN, "127.0.0.1:1\n[::1]:2",
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(c->v[P_HTTP_LISTEN].nlist, 2);
	ck_assert_int_eq(conf_lookup("no.such"), -1);
	conf_free(c);
}
END_TEST

START_TEST(printed_defaults_read_back)
{
	struct conf *d = conf_new(), *c = conf_new();
	char err[512];
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");

	conf_print(d, fp, 1);
	fclose(fp);
	ck_assert_msg(conf_load_file(c, path, err, sizeof(err)) == 0, "%s", err);
	for (int p = 0; p < P_MAX; p++)
		ck_assert_str_eq(c->v[p].s, d->v[p].s);
	unlink(path);
	conf_free(c);
	conf_free(d);
}
END_TEST

/* regmaster.conf(5) documents every parameter of the table (by its key and,
 * for grouped keys, its group): the man page cannot drift from params.h. */
START_TEST(man_page_lists_every_key)
{
	const char *top = getenv("top_srcdir");
	char path[1024], *text;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/man/regmaster.conf.5", top ? top : ".");
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)n + 1);
	ck_assert_int_eq(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	for (int p = 0; p < P_MAX; p++) {
		const char *name = conf_params[p].name, *dot = strchr(name, '.');
		char group[64];
		ck_assert_msg(strstr(text, dot ? dot + 1 : name) != NULL,
		    "regmaster.conf(5) lacks %s", name);
		if (dot) {
			snprintf(group, sizeof(group), ".Ss %.*s\n",
			    (int)(dot - name), name);
			ck_assert_msg(strstr(text, group) != NULL,
			    "regmaster.conf(5) lacks the %s group", group);
		}
	}
	free(text);
}
END_TEST

/* Durations: plain seconds or one unit (s, m, h, d), as a string or an
 * integer in the file, bounded by the parameter's limits in seconds. */
START_TEST(durations)
{
	static const struct { const char *text; int64_t secs; } good[] = {
		{ "90s", 90 }, { "15m", 900 }, { "1h", 3600 }, { "7d", 604800 },
		{ "3600", 3600 }, { "1s", 1 }, { "366d", 366 * 86400 },
	};
	static const char *bad[] = {
		"", "h", "1x", "1.5h", "-1h", "1hs", "5ms", "0s", "0", "367d",
		"1 h", "h1", "99999999999999999999d", "1d1h",
	};
	struct conf *c = conf_new();
	char err[256];

	ck_assert_int_eq(c->v[P_STORAGE_UPLOAD_EXPIRY].i, 86400);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(conf_set(c, P_STORAGE_UPLOAD_EXPIRY, good[i].text,
		    err, sizeof(err)) == 0, "%s: %s", good[i].text, err);
		ck_assert_int_eq(c->v[P_STORAGE_UPLOAD_EXPIRY].i, good[i].secs);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(conf_set(c, P_STORAGE_UPLOAD_EXPIRY, bad[i], err,
		    sizeof(err)) == -1, "'%s' accepted", bad[i]);
		ck_assert_int_eq(c->v[P_STORAGE_UPLOAD_EXPIRY].i, 366 * 86400);
	}
	conf_free(c);
	ck_assert_int_eq(load("storage = { upload_expiry = \"2h\"; };\n", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(conf_int(P_STORAGE_UPLOAD_EXPIRY), 7200);
	ck_assert_int_eq(load("storage = { upload_expiry = 120; };\n", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(conf_int(P_STORAGE_UPLOAD_EXPIRY), 120);
	expect_error("\nstorage = { upload_expiry = \"soon\"; };\n", 2,
	    "storage.upload_expiry");
	expect_error("storage = { upload_expiry = true; };\n", 1,
	    "upload_expiry");
}
END_TEST


#define RELAY_OK "workers = { tunneld = true; };\n" \
	"tunnel = { relay = { listen = [\"127.0.0.1:7000\"];\n" \
	"  token = \"s3cret\"; ports = \"5000-5100, 6000\"; }; };\n"
#define RELAY_WITH(extra) "workers = { tunneld = true; };\n" \
	"tunnel = { relay = { listen = [\"127.0.0.1:7000\"];\n" \
	"  token = \"s3cret\"; " extra " }; };\n"
#define CLIENT_HEAD "workers = { tunneld = true; };\n" \
	"tunnel = { client = { relay = \"relay.example:7000\";\n" \
	"  token = \"s3cret\"; insecure = true;\n"

/* err must hold the word (cross checks name the file, not a line). */
static void
expect_refused(const char *text, const char *word)
{
	char err[512];

	ck_assert_msg(load(text, err, sizeof(err)) == -1, "accepted: %s", text);
	ck_assert_msg(strstr(err, word) != NULL, "no '%s' in '%s'", word, err);
}

/* Groups nest two deep: tunnel.relay.listen; a port range list parses. */
START_TEST(tunnel_nested_groups)
{
	struct tunnel_ports tp;
	char err[512];
	size_t n;

	ck_assert_msg(load(RELAY_OK, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(conf_list(P_TUNNEL_RELAY_LISTEN, &n)[0],
	    "127.0.0.1:7000");
	ck_assert_int_eq(tunnel_ports_parse(conf_str(P_TUNNEL_RELAY_PORTS), &tp,
	    err, sizeof(err)), 0);
	ck_assert_uint_eq(tp.n, 2);
	ck_assert(tunnel_port_allowed(&tp, 5000));
	ck_assert(tunnel_port_allowed(&tp, 5100));
	ck_assert(tunnel_port_allowed(&tp, 6000));
	ck_assert(!tunnel_port_allowed(&tp, 5101));
	ck_assert(!tunnel_port_allowed(&tp, 4999));
	expect_error("tunnel = {\n relay = { colour = { a = 1; }; }; };\n", 2,
	    "unknown group 'tunnel.relay.colour'");
	expect_error("tunnel = { relay = {\n lisen = [\"a:1\"]; }; };\n", 2,
	    "tunnel.relay.lisen");
	expect_error("tunnel = { relay = {\n ports = \"5100-5000\"; }; };\n", 2,
	    "tunnel.relay.ports");
	expect_error("tunnel = { relay = { ports = \"0-10\"; }; };\n", 1,
	    "ports");
	expect_error("tunnel = { relay = { ports = \"5000-70000\"; }; };\n", 1,
	    "ports");
	expect_error("tunnel = { client = { pool = 17; }; };\n", 1, "pool");
}
END_TEST

/* tunnel.relay.visitors_per_address: 256 unless set, 0 (no limit) to
 * 1000000; anything else names file, line and key. */
START_TEST(tunnel_visitors_per_address)
{
	char err[512];

	ck_assert_msg(load(RELAY_OK, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(conf_int(P_TUNNEL_RELAY_VISITORS_ADDR), 256);
	ck_assert_msg(load("tunnel = { relay = { visitors_per_address = 0; "
	    "}; };\n", err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(conf_int(P_TUNNEL_RELAY_VISITORS_ADDR), 0);
	ck_assert_msg(load("tunnel = { relay = { visitors_per_address = "
	    "1000000; }; };\n", err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(conf_int(P_TUNNEL_RELAY_VISITORS_ADDR), 1000000);
	expect_error("tunnel = { relay = {\n visitors_per_address = 1000001;"
	    " }; };\n", 2, "tunnel.relay.visitors_per_address");
	expect_error("tunnel = { relay = {\n\n visitors_per_address = -1; };"
	    " };\n", 3, "visitors_per_address: negative value");
	expect_error("tunnel = { relay = {\n visitors_per_address = \"8\"; };"
	    " };\n", 2, "wrong type");
	expect_error("tunnel = { relay = {\n visitors_per_adress = 8; }; };\n",
	    2, "unknown key 'tunnel.relay.visitors_per_adress'");
}
END_TEST

/* Proxies: typed fields, optional ones get their defaults in the canonical
 * text (group = name), integers and booleans become text. */
START_TEST(tunnel_proxies_read)
{
	struct tunnel_proxy *ps;
	char err[512];
	size_t n;

	ck_assert_msg(load(CLIENT_HEAD "proxies = (\n"
	    " { name = \"reg\"; local = \"127.0.0.1:5000\"; remote_port = 5000; },\n"
	    " { name = \"b\"; local = \"[::1]:80\"; remote_port = 5001; group = \"g\";"
	    "   weight = 60; compression = true; proxy_protocol = true;"
	    "   health = \"http:/v2/\"; } ); }; };\n", err, sizeof(err)) == 0,
	    "%s", err);
	ck_assert_str_eq(conf_str(P_TUNNEL_CLIENT_PROXIES),
	    "reg\t127.0.0.1:5000\t5000\treg\t1\tfalse\tfalse\tnone\n"
	    "b\t[::1]:80\t5001\tg\t60\ttrue\ttrue\thttp:/v2/");
	ck_assert_int_eq(tunnel_proxies_parse(conf_str(P_TUNNEL_CLIENT_PROXIES),
	    &ps, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ps[1].group, "g");
	ck_assert_uint_eq(ps[1].weight, 60);
	ck_assert_uint_eq(ps[1].remote_port, 5001);
	ck_assert(ps[1].compression && ps[1].proxy_protocol);
	ck_assert(!ps[0].compression && !ps[0].proxy_protocol);
	ck_assert_str_eq(ps[0].health, "none");
	free(ps);
}
END_TEST

#define PROXY(fields) CLIENT_HEAD "proxies = (\n{ " fields " } ); }; };\n"

START_TEST(tunnel_proxies_refused)
{
	expect_error(PROXY("name = \"a\"; local = \"h:1\"; remote_port = 0;"),
	    4, "remote_port");
	expect_error(PROXY("name = \"a\"; local = \"h:1\"; remote_port = 70000;"),
	    4, "remote_port");
	expect_error(PROXY("name = \"a\"; local = \"h:1\"; remote_port = 5000;"
	    " weight = 0;"), 4, "weight");
	expect_error(PROXY("name = \"a\"; local = \"h:1\"; remote_port = 5000;"
	    " weight = 1001;"), 4, "weight");
	expect_error(PROXY("name = \"a\"; local = \"nocolon\"; remote_port = 1;"),
	    4, "local");
	expect_error(PROXY("name = \"a\"; local = \"h:0\"; remote_port = 1;"),
	    4, "local");
	expect_error(PROXY("local = \"h:1\"; remote_port = 1;"), 4,
	    "name is missing");
	expect_error(PROXY("name = \"a\"; local = \"h:1\"; remote_port = 1;"
	    " compression = \"yes\";"), 4, "compression must be a boolean");
	expect_error(PROXY("name = \"a\"; local = \"h:1\"; remote_port = \"1\";"),
	    4, "remote_port must be an integer");
	expect_error(PROXY("name = \"a\"; local = \"h:1\"; remote_port = 1;"
	    " colour = 1;"), 4, "unknown field 'colour'");
	expect_error(PROXY("name = \"a b\"; local = \"h:1\"; remote_port = 1;"),
	    4, "names are");
	expect_error(PROXY("name = \"a\"; local = \"h:1\"; remote_port = 1;"
	    " health = \"ping\";"), 4, "health");
	expect_error(CLIENT_HEAD "proxies = (\n"
	    "{ name = \"a\"; local = \"h:1\"; remote_port = 1; },"
	    "{ name = \"b\"; local = \"h:2\"; remote_port = 1; } ); }; };\n",
	    4, "both claim remote_port 1");
}
END_TEST

/* The keys that only make sense together, at load (and so in check). */
START_TEST(tunnel_cross_checks)
{
	char err[512];
	uint8_t fp[32];

	expect_refused("workers = { tunneld = true; };\n"
	    "tunnel = { relay = { listen = [\"127.0.0.1:7000\"]; }; };\n",
	    "needs tunnel.relay.token");
	expect_refused("tunnel = { relay = { listen = [\"127.0.0.1:7000\"];"
	    " token = \"x\"; }; };\n", "workers.tunneld");
	expect_refused(RELAY_WITH("status_listen = [\"127.0.0.1:7500\"];"),
	    "no default password");
	expect_refused(RELAY_WITH("status_user = \"a\"; status_password = "
	    "\"plain\";"), "not a bcrypt hash");
	/* a SHA-512 crypt hash: the page could not verify it */
	expect_refused(RELAY_WITH("status_user = \"a\"; status_password = "
	    "\"$6$salt$IxDD3jeSOb5eB1CX5LBsqZFVkJdido3OUILO5Ifz5iwMuTS4XMS130"
	    "MTSuDDl3aCI6WouIL9AjRbLCelDCy.g.\";"), "not a bcrypt hash");
	expect_refused(RELAY_WITH("status_user = \"a\";"), "go together");
	expect_refused(RELAY_WITH("ports = \"\";"), "could claim no port");
	ck_assert_msg(load(RELAY_WITH("status_listen = [\"127.0.0.1:7500\"];"
	    " status_user = \"admin\"; status_password = "
	    "\"$2y$05$abcdefghijklmnopqrstuuN7pE2.1kmiZr0Q0m1Yw7Y7FhE0xg/ZW\";"),
	    err, sizeof(err)) == 0, "%s", err);
	expect_refused("workers = { tunneld = true; };\n"
	    "tunnel = { client = { relay = \"r:7000\"; token = \"t\";\n"
	    " proxies = ({ name = \"a\"; local = \"h:1\"; remote_port = 1; });"
	    " }; };\n", "to verify the relay");
	expect_refused("workers = { tunneld = true; };\n"
	    "tunnel = { client = { relay = \"r:7000\"; insecure = true;\n"
	    " proxies = ({ name = \"a\"; local = \"h:1\"; remote_port = 1; });"
	    " }; };\n", "needs tunnel.client.token");
	expect_refused(CLIENT_HEAD "}; };\n", "publish nothing");
	expect_refused("workers = { tunneld = true; };\n"
	    "tunnel = { client = { relay = \"nocolon\"; }; };\n", "host:port");
	expect_refused("tunnel = { client = { fingerprint = \"md5:00\"; }; };\n",
	    "fingerprint");
	ck_assert_int_eq(tunnel_fingerprint_parse("sha256:00112233445566778899"
	    "aabbccddeeff00112233445566778899AABBCCDDEEFF", fp), 0);
	ck_assert_uint_eq(fp[31], 0xff);
	ck_assert_int_eq(tunnel_fingerprint_parse("sha256:00:11:22:33:44:55:66"
	    ":77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:aa:bb:cc"
	    ":dd:ee:ff", fp), 0);
	ck_assert_int_eq(tunnel_fingerprint_parse("sha256:0011", fp), -1);
	ck_assert_int_eq(tunnel_fingerprint_parse("sha256:00112233445566778899"
	    "aabbccddeeff00112233445566778899aabbccddeeff00", fp), -1);
}
END_TEST

#define UPSTREAMS(body) "cache = {\n upstreams = (\n" body "\n ); };\n"

/* cache.upstreams: fields with defaults, canonical text, parse back. */
START_TEST(cache_upstreams_read)
{
	struct cache_upstream *us;
	char err[512];
	size_t n;

	ck_assert_msg(load(UPSTREAMS("{ prefix = \"docker.io/\"; url = "
	    "\"https://registry-1.docker.io\"; mirror = true; },\n"
	    "{ prefix = \"ghcr.io/\"; url = \"https://ghcr.io/\"; username = "
	    "\"u\"; password = \"p\"; ca = \"/etc/ca.pem\"; ttl = \"1h\"; },\n"
	    "{ prefix = \"main/\"; url = \"http://[::1]:5000\"; ttl = \"0s\"; }"),
	    err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(conf_str(P_CACHE_UPSTREAMS), "docker.io/\thttps://"
	    "registry-1.docker.io\t\t\t\t5m\ttrue\nghcr.io/\thttps://ghcr.io/\t"
	    "u\tp\t/etc/ca.pem\t1h\tfalse\nmain/\thttp://[::1]:5000\t\t\t\t0s"
	    "\tfalse");
	ck_assert_int_eq(cache_upstreams_parse(conf_str(P_CACHE_UPSTREAMS),
	    &us, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert(us[0].tls && us[0].mirror && us[0].ttl == 300);
	ck_assert_str_eq(us[0].host, "registry-1.docker.io");
	ck_assert_str_eq(us[0].port, "443");
	ck_assert_str_eq(us[1].password, "p");
	ck_assert_uint_eq(us[1].ttl, 3600);
	ck_assert(!us[2].tls && us[2].ttl == 0);
	ck_assert_str_eq(us[2].host, "::1");
	ck_assert_str_eq(us[2].port, "5000");
	free(us);
	ck_assert_int_eq(conf_int(P_CACHE_PUSH), CACHE_PUSH_REFUSE);
	ck_assert_int_eq(conf_int(P_CACHE_MAX_SIZE), 0);
}
END_TEST

START_TEST(cache_upstreams_refused)
{
	char err[512];

	expect_error(UPSTREAMS("{ prefix = \"a/\"; }"), 2, "url is missing");
	expect_error(UPSTREAMS("{ url = \"ftp://x\"; }"), 2, "is not http://");
	expect_error(UPSTREAMS("{ url = \"https://x/v2/\"; }"), 2, "url");
	expect_error(UPSTREAMS("{ url = \"https://x:0\"; }"), 2, "url");
	expect_error(UPSTREAMS("{ url = \"https://x:99999\"; }"), 2, "url");
	expect_error(UPSTREAMS("{ url = \"https://a b\"; }"), 2, "url");
	expect_error(UPSTREAMS("{ prefix = \"Docker/\"; url = \"http://x\"; }"),
	    2, "prefix");
	expect_error(UPSTREAMS("{ prefix = \"docker\"; url = \"http://x\"; }"),
	    2, "ending in '/'");
	expect_error(UPSTREAMS("{ prefix = \"/a/\"; url = \"http://x\"; }"),
	    2, "prefix");
	expect_error(UPSTREAMS("{ url = \"http://x\"; username = \"u\"; }"), 2,
	    "go together");
	expect_error(UPSTREAMS("{ url = \"http://x\"; ca = \"/c.pem\"; }"), 2,
	    "https://");
	expect_error(UPSTREAMS("{ url = \"https://x\"; ca = \"c.pem\"; }"), 2,
	    "absolute");
	expect_error(UPSTREAMS("{ url = \"https://x\"; ttl = \"soon\"; }"), 2,
	    "ttl");
	expect_error(UPSTREAMS("{ url = \"https://x\"; mirror = true; }"), 2,
	    "mirror needs a prefix");
	expect_error(UPSTREAMS("{ prefix = \"a/\"; url = \"http://x\"; },\n"
	    "{ prefix = \"a/\"; url = \"http://y\"; }"), 2, "two upstreams");
	expect_error(UPSTREAMS("{ url = \"http://x\"; },\n"
	    "{ prefix = \"a/\"; url = \"http://y\"; mirror = true; }"), 2,
	    "at most one");
	expect_error(UPSTREAMS("{ url = \"http://x\"; colour = 1; }"), 2,
	    "unknown field 'colour'");
	expect_error("cache = {\n push = \"drop\"; };\n", 2, "cache.push");
	expect_refused("auth = { htpasswd = \"/x/htpasswd\"; };\n"
	    "cache = { push = \"forward\"; };\n", "auth.htpasswd");
	ck_assert_msg(load("cache = { push = \"forward\"; upstreams = ("
	    " { url = \"http://x\"; } ); };\n", err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_int_eq(conf_int(P_CACHE_PUSH), CACHE_PUSH_FORWARD);
	expect_refused("workers = { httpd = false; };\n" UPSTREAMS(
	    "{ url = \"http://x\"; }"), "workers.httpd");
}
END_TEST

/* conf_list_parse's element for the test: a number, "bad" refused. */
static int
num_parse(char *line, void *elem, char *err, size_t errlen)
{
	if (strcmp(line, "bad") == 0)
		return snprintf(err, errlen, "bad element"), -1;
	*(int *)elem = atoi(line);
	return 0;
}

START_TEST(list_parse_bounds)
{
	char err[128];
	void *v;
	size_t n;

	ck_assert_int_eq(conf_list_parse("1\n2\n3", sizeof(int), 3, "numbers",
	    num_parse, &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(((int *)v)[2], 3);
	free(v);
	ck_assert_int_eq(conf_list_parse("", sizeof(int), 3, "numbers",
	    num_parse, &v, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(conf_list_parse("1\n2\n3\n4", sizeof(int), 3,
	    "numbers", num_parse, &v, &n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "more than 3 numbers");
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(conf_list_parse("1\nbad\n3", sizeof(int), 3,
	    "numbers", num_parse, &v, &n, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "bad element");
	ck_assert_ptr_null(v);
}
END_TEST

START_TEST(cache_sizes)
{
	static const struct { const char *text; int64_t bytes; } good[] = {
		{ "0", 0 }, { "512", 512 }, { "1K", 1024 },
		{ "512M", 512LL << 20 }, { "50G", 50LL << 30 },
		{ "2T", 2LL << 40 },
	};
	static const char *bad[] = { "", "G", "1.5G", "-1G", "1g", "1GB",
	    "1 G", "9999999999T", "1P" };
	struct conf *c = conf_new();
	char err[256];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(conf_set(c, P_CACHE_MAX_SIZE, good[i].text, err,
		    sizeof(err)) == 0, "%s: %s", good[i].text, err);
		ck_assert_int_eq(c->v[P_CACHE_MAX_SIZE].i, good[i].bytes);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(conf_set(c, P_CACHE_MAX_SIZE, bad[i], err,
		    sizeof(err)) == -1, "'%s' accepted", bad[i]);
	conf_free(c);
	ck_assert_int_eq(load("cache = { max_size = 1048576; };\n", err,
	    sizeof(err)), 0);
	ck_assert_int_eq(conf_int(P_CACHE_MAX_SIZE), 1048576);
	expect_error("\ncache = { max_size = \"lots\"; };\n", 2,
	    "cache.max_size");
}
END_TEST

/* Which upstream serves a name, fetched as what, stored where. */
START_TEST(cache_routing)
{
	static const struct { const char *name; int idx; const char *remote,
	    *store; int mirror; } cases[] = {
		{ "docker.io/nginx", 0, "library/nginx",
		    "docker.io/library/nginx", 0 },
		{ "docker.io/library/nginx", 0, "library/nginx",
		    "docker.io/library/nginx", 0 },
		{ "docker.io/bitnami/redis", 0, "bitnami/redis",
		    "docker.io/bitnami/redis", 0 },
		{ "library/nginx", 0, "library/nginx",
		    "docker.io/library/nginx", 1 },
		{ "nginx", 0, "nginx", "docker.io/nginx", 1 },
		{ "ghcr.io/o/app", 1, "o/app", "ghcr.io/o/app", 0 },
		{ "ghcr.io/deep/o/app", 2, "app", "ghcr.io/deep/o/app", 0 },
		{ "ghcr.io/", 0, "ghcr.io/", "docker.io/ghcr.io/", 1 },
	};
	struct cache_upstream *us;
	char err[256], remote[256], store[256];
	size_t n;
	int m;

	ck_assert_int_eq(cache_upstreams_parse("docker.io/\thttps://h\t\t\t\t"
	    "5m\ttrue\nghcr.io/\thttps://g\t\t\t\t5m\tfalse\nghcr.io/deep/o/\t"
	    "https://d\t\t\t\t5m\tfalse", &us, &n, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(cache_route(us, n, cases[i].name, remote,
		    sizeof(remote), store, sizeof(store), &m), cases[i].idx);
		ck_assert_str_eq(remote, cases[i].remote);
		ck_assert_str_eq(store, cases[i].store);
		ck_assert_int_eq(m, cases[i].mirror);
	}
	/* no mirror: names no prefix takes are the host's own */
	us[0].mirror = 0;
	ck_assert_int_eq(cache_route(us, n, "team/app", remote, sizeof(remote),
	    store, sizeof(store), &m), -1);
	/* a catch-all takes them, as they are */
	us[0].prefix[0] = '\0';
	ck_assert_int_eq(cache_route(us, n, "team/app", remote, sizeof(remote),
	    store, sizeof(store), &m), 0);
	ck_assert_str_eq(remote, "team/app");
	ck_assert_str_eq(store, "team/app");
	ck_assert_int_eq(cache_route(us, n, "ghcr.io/x", remote, 1, store,
	    sizeof(store), &m), -1);
	free(us);
}
END_TEST

/* auth.rules and auth.groups keep working through the typed fields. */
START_TEST(auth_rules_still_read)
{
	char err[512];

	ck_assert_msg(load("auth = { groups = ({ name = \"dev\"; members = "
	    "\"ann bob\"; });\n rules = ({ who = \"@dev\"; repo = \"team/*\";"
	    " allow = \"pull,push\"; }); };\n", err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_str_eq(conf_str(P_AUTH_GROUPS), "dev\tann bob");
	ck_assert_str_eq(conf_str(P_AUTH_RULES), "@dev\tteam/*\tpull,push");
	expect_error("auth = {\n rules = ({ who = \"a\"; repo = \"b\"; }); };\n",
	    2, "allow is missing");
	expect_error("auth = {\n groups = ({ name = 1; members = \"a\"; }); };\n",
	    2, "name must be a string");
}
END_TEST

static Suite *
conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, defaults_serve);
	tcase_add_test(tc, good_file_read);
	tcase_add_test(tc, unknown_key_names_line);
	tcase_add_test(tc, bad_values_name_line);
	tcase_add_test(tc, syntax_error_names_line);
	tcase_add_test(tc, conf_set_validates);
	tcase_add_test(tc, printed_defaults_read_back);
	tcase_add_test(tc, man_page_lists_every_key);
	tcase_add_test(tc, durations);
	tcase_add_test(tc, tunnel_nested_groups);
	tcase_add_test(tc, tunnel_visitors_per_address);
	tcase_add_test(tc, tunnel_proxies_read);
	tcase_add_test(tc, list_parse_bounds);
	tcase_add_test(tc, tunnel_proxies_refused);
	tcase_add_test(tc, tunnel_cross_checks);
	tcase_add_test(tc, auth_rules_still_read);
	tcase_add_test(tc, cache_upstreams_read);
	tcase_add_test(tc, cache_upstreams_refused);
	tcase_add_test(tc, cache_sizes);
	tcase_add_test(tc, cache_routing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(conf_suite());
}
