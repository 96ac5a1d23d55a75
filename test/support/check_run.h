/* SPDX-License-Identifier: MIT */
/* Run a Check suite and turn its outcome into the process exit status.
 * CK_ENV: verbosity from CK_VERBOSITY, normal by default. */
#pragma once

#include <check.h>
#include <stdlib.h>

static inline int sr_check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
