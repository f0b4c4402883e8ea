/* conf.c - the configuration table, its validation, and libconfig reading. */
#include <sys/types.h>
#include <sys/socket.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "conf_cache.h"
#include "conf_tunnel.h"
#include "log.h"
#include "util.h"

#define X_P(id, n, t, d, lo, hi, w, h) [id] = { n, t, d, lo, hi, w, h },
const struct conf_param_def conf_params[P_MAX] = { CONF_PARAMS(X_P) };
#undef X_P

static struct conf *current;

static void
conf_value_clear(struct conf_value *v)
{
	for (size_t i = 0; i < v->nlist; i++)
		free(v->list[i]);
	free(v->list);
	free(v->s);
	memset(v, 0, sizeof(*v));
}

struct conf *
conf_new(void)
{
	struct conf *c = xcalloc(1, sizeof(*c));
	char err[256];

	for (int p = 0; p < P_MAX; p++)
		if (conf_set(c, p, conf_params[p].dflt, err, sizeof(err)) == -1)
			fatalx("default of %s: %s", conf_params[p].name, err);
	return c;
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	for (int p = 0; p < P_MAX; p++)
		conf_value_clear(&c->v[p]);
	free(c->path);
	free(c);
}

void
conf_use(struct conf *c)
{
	current = c;
}

struct conf *
conf_current(void)
{
	return current;
}

int
conf_lookup(const char *name)
{
	for (int p = 0; p < P_MAX; p++)
		if (strcmp(conf_params[p].name, name) == 0)
			return p;
	return -1;
}

int
conf_split_hostport(const char *s, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char *colon, *h = s;
	size_t hl;

	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen || strlen(colon + 1) >= portlen)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	return str_copy(port, colon + 1, portlen);
}

static int
check_listen(const char *s, char *err, size_t errlen)
{
	char host[256], port[16];
	struct addrinfo hints, *res;
	uint64_t pn;
	int r;

	if (conf_split_hostport(s, host, sizeof(host), port, sizeof(port)) ||
	    parse_u64(port, 65535, &pn) == -1 || pn == 0) {
		snprintf(err, errlen, "'%s' is not address:port (port 1-65535)", s);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "'%s': %s", s, gai_strerror(r));
		return -1;
	}
	freeaddrinfo(res);
	return 0;
}

static int
check_path(const char *s, char *err, size_t errlen)
{
	if (s[0] != '/' || strstr(s, "/../") || strstr(s, "/./") ||
	    strlen(s) >= 1024 || strchr(s, '\n') ||
	    (strlen(s) >= 3 && strcmp(s + strlen(s) - 3, "/..") == 0)) {
		snprintf(err, errlen, "'%s' is not an absolute, normalized path", s);
		return -1;
	}
	return 0;
}

static int
check_user(const char *s, char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") != n || s[0] == '-') {
		snprintf(err, errlen, "'%s' is not a valid user name", s);
		return -1;
	}
	return 0;
}

/* A list, one item a line: addresses (CT_LISTEN) or paths (CT_PATHLIST);
 * empty text is the empty list, allowed only if the parameter's min is 0. */
static int
set_list(struct conf_value *v, const struct conf_param_def *d,
    const char *text, char *err, size_t errlen)
{
	char *copy = xstrdup(text), *p = copy, *item;

	if (*text == '\0' && d->min > 0) {
		free(copy);
		return snprintf(err, errlen, "empty list"), -1;
	}
	while (*text && (item = strsep(&p, "\n")) != NULL) {
		if ((d->type == CT_LISTEN ? check_listen(item, err, errlen) :
		    check_path(item, err, errlen)) == -1) {
			free(copy);
			return -1;
		}
		v->list = xreallocarray(v->list, v->nlist + 1, sizeof(char *));
		v->list[v->nlist++] = xstrdup(item);
	}
	free(copy);
	return 0;
}

static int
set_int(struct conf_value *v, const struct conf_param_def *d, const char *text,
    char *err, size_t errlen)
{
	uint64_t u;

	if (parse_u64(text, (uint64_t)d->max, &u) == -1 ||
	    (int64_t)u < d->min) {
		snprintf(err, errlen, "'%s' is not an integer from %lld to %lld",
		    text, (long long)d->min, (long long)d->max);
		return -1;
	}
	v->i = (int64_t)u;
	return 0;
}

int
conf_duration_parse(const char *text, uint64_t max, uint64_t *secs)
{
	static const struct { char u; uint64_t mul; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	char num[24];
	size_t n = strlen(text);
	uint64_t u, mul = 1;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, text, n + 1);
	for (size_t i = 0; i < nitems(units); i++)
		if (num[n - 1] == units[i].u) {
			mul = units[i].mul;
			num[--n] = '\0';
			break;
		}
	if (n == 0 || parse_u64(num, max / mul, &u) == -1)
		return -1;
	*secs = u * mul;
	return 0;
}

int
conf_size_parse(const char *text, uint64_t *bytes)
{
	static const char units[] = "KMGT";
	char num[24];
	size_t n = strlen(text);
	const char *u;
	uint64_t v, shift = 0;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, text, n + 1);
	if ((u = strchr(units, num[n - 1])) != NULL) {
		shift = 10 * (uint64_t)(u - units + 1);
		num[--n] = '\0';
	}
	if (n == 0 || parse_u64(num, (uint64_t)INT64_MAX >> shift, &v) == -1)
		return -1;
	*bytes = v << shift;
	return 0;
}

/* A duration within the parameter's limits (in seconds). */
static int
set_duration(struct conf_value *v, const struct conf_param_def *d,
    const char *text, char *err, size_t errlen)
{
	uint64_t u;

	if (conf_duration_parse(text, (uint64_t)d->max, &u) == -1 ||
	    (int64_t)u < d->min) {
		snprintf(err, errlen, "'%s' is not a duration (like 90s, 15m, "
		    "1h, 7d) from %llds to %llds", text, (long long)d->min,
		    (long long)d->max);
		return -1;
	}
	v->i = (int64_t)u;
	return 0;
}

/* The values of one word with a shape of their own. */
static int
set_word(struct conf_value *v, const struct conf_param_def *d,
    const char *text, char *err, size_t errlen)
{
	uint64_t u;

	switch (d->type) {
	case CT_PORTS:
		return tunnel_ports_parse(text, NULL, err, errlen);
	case CT_SIZE:
		if (conf_size_parse(text, &u) == -1)
			return snprintf(err, errlen, "'%s' is not a size (bytes,"
			    " or like 512M, 50G, 2T)", text), -1;
		v->i = (int64_t)u;
		return 0;
	case CT_PUSHMODE:
		if ((v->i = cache_push_parse(text)) == -1)
			return snprintf(err, errlen, "'%s' is not refuse or "
			    "forward", text), -1;
		return 0;
	default:
		if ((v->i = log_level_parse(text)) == -1)
			return snprintf(err, errlen, "'%s' is not error, "
			    "warning, info or debug", text), -1;
		return 0;
	}
}

/* Parse text as parameter p and store it; old value kept on error. */
int
conf_set(struct conf *c, int p, const char *text, char *err, size_t errlen)
{
	const struct conf_param_def *d = &conf_params[p];
	struct conf_value nv;
	int r = 0;

	memset(&nv, 0, sizeof(nv));
	switch (d->type) {
	case CT_STR:
		r = strchr(text, '\n') ? (snprintf(err, errlen,
		    "newline in value"), -1) : 0;
		break;
	case CT_PATH:
		r = check_path(text, err, errlen);
		break;
	case CT_OPTPATH:
		r = *text ? check_path(text, err, errlen) : 0;
		break;
	case CT_USER:
		r = check_user(text, err, errlen);
		break;
	case CT_BOOL:
		if (strcmp(text, "true") == 0)
			nv.i = 1;
		else if (strcmp(text, "false") != 0)
			r = (snprintf(err, errlen, "'%s' is not true or false",
			    text), -1);
		break;
	case CT_INT:
		r = set_int(&nv, d, text, err, errlen);
		break;
	case CT_LISTEN:
	case CT_PATHLIST:
		r = set_list(&nv, d, text, err, errlen);
		break;
	case CT_RULES:
		r = conf_rules_check(p, text, err, errlen);
		break;
	case CT_DURATION:
		r = set_duration(&nv, d, text, err, errlen);
		break;
	case CT_PORTS:
	case CT_SIZE:
	case CT_PUSHMODE:
	case CT_LOGLEVEL:
		r = set_word(&nv, d, text, err, errlen);
		break;
	}
	if (r == -1) {
		conf_value_clear(&nv);
		return -1;
	}
	nv.s = xstrdup(text);
	conf_value_clear(&c->v[p]);
	c->v[p] = nv;
	return 0;
}

/* How many leading dot-separated components a and b share, of the
 * groups of a (its last component is the key). */
static int
groups_shared(const char *a, const char *b)
{
	int n = 0;

	for (;;) {
		const char *da = strchr(a, '.'), *db = strchr(b, '.');
		if (da == NULL || db == NULL || da - a != db - b ||
		    strncmp(a, b, (size_t)(da - a)) != 0)
			return n;
		n++;
		a = da + 1;
		b = db + 1;
	}
}

static int
group_depth(const char *name)
{
	int n = 0;

	for (; *name; name++)
		n += *name == '.';
	return n;
}

/* One value in libconfig syntax, after its "key = ". */
static void
print_value(const struct conf *c, int p, FILE *fp)
{
	const struct conf_param_def *d = &conf_params[p];

	if (d->type == CT_BOOL || d->type == CT_INT)
		fprintf(fp, "%s;\n", c->v[p].s);
	else if (d->type == CT_RULES)
		conf_rules_print(p, c->v[p].s, fp);
	else if (d->type == CT_LISTEN || d->type == CT_PATHLIST) {
		fprintf(fp, "[");
		for (size_t i = 0; i < c->v[p].nlist; i++)
			fprintf(fp, "%s\"%s\"", i ? ", " : " ",
			    c->v[p].list[i]);
		fprintf(fp, " ];\n");
	} else
		fprintf(fp, "\"%s\";\n", c->v[p].s);
}

/* Print all values as a libconfig file (the defaults when c is fresh);
 * the table keeps the keys of a group together, groups nest by dots. */
void
conf_print(const struct conf *c, FILE *fp, int with_help)
{
	const char *prev = "";
	int open = 0;

	for (int p = 0; p < P_MAX; p++) {
		const char *name = conf_params[p].name, *key = name;
		int keep = groups_shared(prev, name), depth = group_depth(name);

		for (; open > keep; open--)
			fprintf(fp, "%.*s};\n", open - 1, "\t\t\t\t");
		for (int i = 0; i < open; i++)
			key = strchr(key, '.') + 1;
		for (; open < depth; open++) {
			const char *dot = strchr(key, '.');
			fprintf(fp, "\n%.*s%.*s = {\n", open, "\t\t\t\t",
			    (int)(dot - key), key);
			key = dot + 1;
		}
		if (with_help)
			fprintf(fp, "%.*s# %s\n", depth, "\t\t\t\t",
			    conf_params[p].help);
		fprintf(fp, "%.*s%s = ", depth, "\t\t\t\t", key);
		print_value(c, p, fp);
		prev = name;
	}
	for (; open > 0; open--)
		fprintf(fp, "%.*s};\n", open - 1, "\t\t\t\t");
}

const char *
conf_str(int p)
{
	return current->v[p].s;
}

int64_t
conf_int(int p)
{
	return current->v[p].i;
}

int
conf_bool(int p)
{
	return current->v[p].i != 0;
}

char *const *
conf_list(int p, size_t *n)
{
	*n = current->v[p].nlist;
	return current->v[p].list;
}
