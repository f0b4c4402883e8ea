/*
 * unit.h - what every unit test's main() ends with: run the suite with
 * check's normal output (its "N%: Checks: ..." line is what tests/check.sh
 * sums) and turn the failures into automake's exit status.
 */
#ifndef UNIT_H
#define UNIT_H

#include <check.h>
#include <stdlib.h>

static inline int
unit_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
