// SPDX-License-Identifier: GPL-2.0-only
#include "lib/arm64/wakeup_verdict.h"

const struct verdict_kind wakeup_verdicts[] = {
	[WAKEUP_DELIVERED] = { "delivered", KTAP_PASS },
	[WAKEUP_NOT_DELIVERED] = { "not-delivered", KTAP_FAIL },
	[WAKEUP_MISCOUNTED] = { "miscounted", KTAP_FAIL },
	[WAKEUP_MISSING_WAKEUP] = { "missing-wakeup", KTAP_FAIL },
	[WAKEUP_MISSING_DOORBELL] = { "missing-doorbell", KTAP_FAIL },
	[WAKEUP_LOST] = { "lost-wakeup", KTAP_FAIL },
};
