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
#include "log.h"
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
	if ((d->type == CT_INT || d->type == CT_DURATION ||
	    d->type == CT_SIZE) &&
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
load_setting(struct conf *c, config_setting_t *s, const char *name,
    const char *file, char *err, size_t errlen)
{
	char msg[512];
	struct buf text;
	int p, r;

	if ((p = conf_lookup(name)) == -1) {
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

/* Does some parameter's name start with "prefix."? */
static int
group_known(const char *prefix)
{
	size_t n = strlen(prefix);

	for (int p = 0; p < P_MAX; p++)
		if (strncmp(conf_params[p].name, prefix, n) == 0 &&
		    conf_params[p].name[n] == '.')
			return 1;
	return 0;
}

/* Walk the settings of group g, whose keys are named "prefix.KEY": groups
 * nest as deep as the table's names do (tunnel.relay.listen), every key
 * known. */
static int
load_group(struct conf *c, config_setting_t *g, const char *prefix,
    const char *file, char *err, size_t errlen)
{
	char name[128];

	for (int i = 0; i < config_setting_length(g); i++) {
		config_setting_t *s = config_setting_get_elem(g, i);
		if (snprintf(name, sizeof(name), "%s%s%s", prefix,
		    *prefix ? "." : "", config_setting_name(s)) >=
		    (int)sizeof(name)) {
			snprintf(err, errlen, "%s:%u: key name too long", file,
			    config_setting_source_line(s));
			return -1;
		}
		if (!config_setting_is_group(s)) {
			if (load_setting(c, s, name, file, err, errlen) == -1)
				return -1;
			continue;
		}
		if (!group_known(name)) {
			snprintf(err, errlen, "%s:%u: unknown group '%s'", file,
			    config_setting_source_line(s), name);
			return -1;
		}
		if (load_group(c, s, name, file, err, errlen) == -1)
			return -1;
	}
	return 0;
}

int
conf_load_file(struct conf *c, const char *path, char *err, size_t errlen)
{
	config_t cf;
	char msg[512];
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
	r = load_group(c, config_root_setting(&cf), "", path, err, errlen);
	if (r == 0 && conf_cross_check(c, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "%s: %s", path, msg);
		r = -1;
	}
	config_destroy(&cf);
	if (r == 0) {
		free(c->path);
		c->path = xstrdup(path);
	}
	return r;
}


/* Every field name of group g is one of the shape's. */
static int
fields_known(config_setting_t *g, const struct conf_rule_field *fs, int nf,
    int idx, char *err, size_t errlen)
{
	for (int k = 0; k < config_setting_length(g); k++) {
		const char *n = config_setting_name(config_setting_get_elem(g,
		    k));
		int known = 0;
		for (int f = 0; f < nf; f++)
			known |= strcmp(n, fs[f].name) == 0;
		if (!known)
			return snprintf(err, errlen, "element %d: unknown "
			    "field '%s'", idx + 1, n), -1;
	}
	return 0;
}

/* Field f of group g as text (its default when absent) into out. */
static int
field_text(config_setting_t *g, const struct conf_rule_field *fs, int f,
    struct buf *vals, int idx, char *err, size_t errlen)
{
	config_setting_t *s = config_setting_get_member(g, fs[f].name);
	int t = s ? config_setting_type(s) : CONFIG_TYPE_NONE;
	static const char *kinds[] = { "a string", "an integer", "a boolean",
	    "a duration string" };

	if (s == NULL && fs[f].dflt == NULL)
		return snprintf(err, errlen, "element %d: %s is missing",
		    idx + 1, fs[f].name), -1;
	if (s == NULL && fs[f].dflt[0] == '=') {
		for (int k = 0; k < f; k++)
			if (strcmp(fs[k].name, fs[f].dflt + 1) == 0)
				return buf_puts(&vals[f], vals[k].data), 0;
		fatalx("conf_rules: default of %s names no earlier field",
		    fs[f].name);
	}
	if (s == NULL)
		return buf_puts(&vals[f], fs[f].dflt), 0;
	if ((fs[f].kind == RF_STR || fs[f].kind == RF_DURATION) &&
	    t == CONFIG_TYPE_STRING)
		return buf_puts(&vals[f], config_setting_get_string(s)), 0;
	if (fs[f].kind == RF_BOOL && t == CONFIG_TYPE_BOOL)
		return buf_puts(&vals[f], config_setting_get_bool(s) ? "true" :
		    "false"), 0;
	if (fs[f].kind == RF_INT && (t == CONFIG_TYPE_INT ||
	    t == CONFIG_TYPE_INT64)) {
		long long v = config_setting_get_int64(s);
		if (v < 0)
			return snprintf(err, errlen, "element %d: %s is "
			    "negative", idx + 1, fs[f].name), -1;
		return buf_printf(&vals[f], "%lld", v), 0;
	}
	return snprintf(err, errlen, "element %d: %s must be %s", idx + 1,
	    fs[f].name, kinds[fs[f].kind]), -1;
}

/* A list of groups as canonical CT_RULES text. */
int
conf_rules_text(const struct conf_param_def *d, config_setting_t *s,
    struct buf *out, char *err, size_t errlen)
{
	const struct conf_rule_field *fs;
	struct buf vals[CONF_RULE_FIELDS];
	int nf, r = 0, p = (int)(d - conf_params);

	fs = conf_rules_fields(p, &nf);
	for (int i = 0; r == 0 && i < config_setting_length(s); i++) {
		config_setting_t *g = config_setting_get_elem(s, i);
		if (!config_setting_is_group(g))
			return snprintf(err, errlen, "element %d is not a "
			    "group", i + 1), -1;
		if (fields_known(g, fs, nf, i, err, errlen) == -1)
			return -1;
		for (int f = 0; f < nf; f++)
			buf_init(&vals[f]);
		for (int f = 0; r == 0 && f < nf; f++) {
			r = field_text(g, fs, f, vals, i, err, errlen);
			buf_append(&vals[f], "", 1);
		}
		buf_puts(out, i ? "\n" : "");
		for (int f = 0; f < nf; f++) {
			if (r == 0)
				buf_printf(out, "%s%s", f ? "\t" : "",
				    vals[f].data);
			buf_free(&vals[f]);
		}
	}
	return r;
}
