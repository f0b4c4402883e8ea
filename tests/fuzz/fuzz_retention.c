/*
 * fuzz_retention.c - libFuzzer target for lib/retention.c and the duration
 * parser.  Input: retention canonical text, 0x01, then "repo\ttag\tage"
 * lines.  Whatever parses must agree with conf_rules_check's verdict when
 * that accepts, match repositories and plan tags without crashing, never
 * delete a tag a keep pattern matches, and durations stay within bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "params.h"
#include "retention.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *
cut(char *s, int sep)
{
	char *p = strchr(s, sep);

	if (p == NULL)
		return s + strlen(s);
	*p = '\0';
	return p + 1;
}

/* One "repo\ttag\tage" line through the first matching rule. */
static void
query(const struct retention_rule *v, size_t n, char *line)
{
	char *tag = cut(line, '\t'), *age = cut(tag, '\t');
	const struct retention_rule *r = retention_match(v, n, line);
	struct rtag t[2] = { { tag, 0, 0 }, { "latest", 0, 0 } };
	uint64_t secs;

	if (conf_duration_parse(age, 1000, &secs) == 0 && secs > 1000)
		abort();
	if (r == NULL)
		return;
	t[0].pushed = (int64_t)strtoll(age, NULL, 10);
	retention_plan(r, t, 2, 1000000);
	for (int i = 0; i < 2; i++)
		if (t[i].del && retention_keeps(r, t[i].name))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retention_rule *v;
	char *s, *queries, *line, err[256];
	size_t n;
	int parsed;

	if (size > 16384)
		return 0;
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	queries = cut(s, 1);
	parsed = retention_parse(s, &v, &n, err, sizeof(err)) == 0;
	if (conf_rules_check(P_RETENTION, s, err, sizeof(err)) == 0 && !parsed)
		abort();
	while (parsed && *queries != '\0') {
		line = queries;
		queries = cut(queries, '\n');
		query(v, n, line);
	}
	if (parsed)
		retention_free(v, n);
	free(s);
	return 0;
}
