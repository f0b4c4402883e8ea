/*
 * conf_file.c - reading regmaster.conf with libconfig.  Only master reads
 * the file; workers get values as messages, so only master links libconfig.
 */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "util.h"

/* Render a libconfig setting as canonical text for conf_set. */
static int
setting_text(config_setting_t *s, const struct conf_param_def *d,
    struct buf *out, char *err, size_t errlen)
{
	int t = config_setting_type(s);

	if (d->type == CT_BOOL && t == CONFIG_TYPE_BOOL) {
		buf_puts(out, config_setting_get_bool(s) ? "true" : "false");
		return 0;
	}
	if ((d->type == CT_INT || d->type == CT_DURATION) &&
	    (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64)) {
		long long v = config_setting_get_int64(s);
		if (v < 0)
			return snprintf(err, errlen, "negative value"), -1;
		buf_printf(out, "%lld", v);
		return 0;
	}
	if ((d->type == CT_LISTEN || d->type == CT_PATHLIST) &&
	    (t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST)) {
		int n = config_setting_length(s);
		for (int i = 0; i < n; i++) {
			const char *e = config_setting_get_string_elem(s, i);
			if (e == NULL)
				return snprintf(err, errlen, "list items must "
				    "be strings"), -1;
			buf_printf(out, "%s%s", i ? "\n" : "", e);
		}
		return 0;
	}
	if (d->type == CT_RULES && t == CONFIG_TYPE_LIST)
		return conf_rules_text(d, s, out, err, errlen);
	if (d->type != CT_BOOL && d->type != CT_INT && d->type != CT_RULES &&
	    t == CONFIG_TYPE_STRING) {
		buf_puts(out, config_setting_get_string(s));
		return 0;
	}
	snprintf(err, errlen, "wrong type for %s", d->name);
	return -1;
}

static int
load_setting(struct conf *c, config_setting_t *s, const char *file, char *err,
    size_t errlen)
{
	char name[128], msg[512];
	const char *parent = NULL;
	config_setting_t *up = config_setting_parent(s);
	struct buf text;
	int p, r;

	if (up && !config_setting_is_root(up))
		parent = config_setting_name(up);
	if (snprintf(name, sizeof(name), "%s%s%s", parent ? parent : "",
	    parent ? "." : "", config_setting_name(s)) >= (int)sizeof(name))
		p = -1;
	else
		p = conf_lookup(name);
	if (p == -1) {
		snprintf(err, errlen, "%s:%u: unknown key '%s'", file,
		    config_setting_source_line(s), name);
		return -1;
	}
	buf_init(&text);
	r = setting_text(s, &conf_params[p], &text, msg, sizeof(msg));
	buf_append(&text, "", 1);
	if (r == 0)
		r = conf_set(c, p, text.data, msg, sizeof(msg));
	if (r == -1)
		snprintf(err, errlen, "%s:%u: %s: %s", file,
		    config_setting_source_line(s), name, msg);
	buf_free(&text);
	return r;
}

/* Walk the file's settings: one level of groups, every key known. */
static int
load_root(struct conf *c, config_setting_t *root, const char *file, char *err,
    size_t errlen)
{
	for (int i = 0; i < config_setting_length(root); i++) {
		config_setting_t *s = config_setting_get_elem(root, i);
		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			if (load_setting(c, s, file, err, errlen) == -1)
				return -1;
			continue;
		}
		for (int j = 0; j < config_setting_length(s); j++) {
			config_setting_t *k = config_setting_get_elem(s, j);
			if (config_setting_is_group(k)) {
				snprintf(err, errlen, "%s:%u: unknown group "
				    "'%s.%s'", file,
				    config_setting_source_line(k),
				    config_setting_name(s),
				    config_setting_name(k));
				return -1;
			}
			if (load_setting(c, k, file, err, errlen) == -1)
				return -1;
		}
	}
	return 0;
}

int
conf_load_file(struct conf *c, const char *path, char *err, size_t errlen)
{
	config_t cf;
	int r;

	config_init(&cf);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read file", path);
		else
			snprintf(err, errlen, "%s:%d: %s", path,
			    config_error_line(&cf), config_error_text(&cf));
		config_destroy(&cf);
		return -1;
	}
	r = load_root(c, config_root_setting(&cf), path, err, errlen);
	config_destroy(&cf);
	if (r == 0) {
		free(c->path);
		c->path = xstrdup(path);
	}
	return r;
}


/* A list of groups of strings as canonical CT_RULES text. */
int
conf_rules_text(const struct conf_param_def *d, config_setting_t *s,
    struct buf *out, char *err, size_t errlen)
{
	const char *const *names;
	int nf, p = (int)(d - conf_params);

	names = conf_rules_fields(p, &nf);
	for (int i = 0; i < config_setting_length(s); i++) {
		config_setting_t *g = config_setting_get_elem(s, i);
		if (!config_setting_is_group(g))
			return snprintf(err, errlen, "element %d is not a "
			    "group", i + 1), -1;
		for (int k = 0; k < config_setting_length(g); k++) {
			const char *n = config_setting_name(
			    config_setting_get_elem(g, k));
			int known = 0;
			for (int f = 0; f < nf; f++)
				known |= strcmp(n, names[f]) == 0;
			if (!known)
				return snprintf(err, errlen, "element %d: "
				    "unknown field '%s'", i + 1, n), -1;
		}
		buf_puts(out, i ? "\n" : "");
		for (int f = 0; f < nf; f++) {
			const char *v = NULL;
			if (!config_setting_lookup_string(g, names[f], &v))
				return snprintf(err, errlen, "element %d: %s "
				    "must be a string", i + 1, names[f]), -1;
			buf_printf(out, "%s%s", f ? "\t" : "", v);
		}
	}
	return 0;
}
