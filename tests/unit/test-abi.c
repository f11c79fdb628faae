/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host-side checks of the hsnic device ABI header: field offsets, that
 * every FOO_MASK agrees with FOO_SHIFT/FOO_WIDTH, and that the register
 * map has no overlaps. Compiled with -std=c11 -Wall -Werror.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "hsnic_abi.h"

static int failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", \
			__FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)

#define FIELD_OK(f) \
	CHECK(f##_MASK == (uint32_t)((((uint64_t)1 << f##_WIDTH) - 1) << \
				     f##_SHIFT))

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	static const uint32_t global[] = {
		HSNIC_REG_MAGIC, HSNIC_REG_VERSION, HSNIC_REG_FEATURES,
		HSNIC_REG_MAX_QP, HSNIC_REG_MAX_RING, HSNIC_REG_DEV_CTRL,
		HSNIC_REG_DEV_STATUS, HSNIC_REG_EVT_CAUSE, HSNIC_REG_EVT_MASK,
		HSNIC_REG_MAC_LO, HSNIC_REG_MAC_HI, HSNIC_REG_RX_MODE,
		HSNIC_REG_ERR_CODE,
	};
	static const uint32_t qregs[] = {
		HSNIC_Q_DESC_LO, HSNIC_Q_DESC_HI, HSNIC_Q_CMPL_LO,
		HSNIC_Q_CMPL_HI, HSNIC_Q_RING_SIZE, HSNIC_Q_CTRL,
		HSNIC_Q_STATUS, HSNIC_Q_HEAD, HSNIC_Q_TAIL, HSNIC_Q_CMPL_IDX,
	};
	uint32_t sorted[sizeof(global) / sizeof(global[0])];
	size_t i;

	/* Descriptor and completion layouts (docs/hsnic-spec.md tables). */
	CHECK(offsetof(struct hsnic_tx_desc, addr) == 0);
	CHECK(offsetof(struct hsnic_tx_desc, len) == 8);
	CHECK(offsetof(struct hsnic_tx_desc, cmd) == 12);
	CHECK(offsetof(struct hsnic_tx_cmpl, head) == 0);
	CHECK(offsetof(struct hsnic_tx_cmpl, status) == 4);
	CHECK(offsetof(struct hsnic_tx_cmpl, flags) == 6);
	CHECK(offsetof(struct hsnic_rx_desc, addr) == 0);
	CHECK(offsetof(struct hsnic_rx_desc, len) == 8);
	CHECK(offsetof(struct hsnic_rx_cmpl, desc_idx) == 0);
	CHECK(offsetof(struct hsnic_rx_cmpl, buf_len) == 2);
	CHECK(offsetof(struct hsnic_rx_cmpl, flags) == 4);
	CHECK(offsetof(struct hsnic_rx_cmpl, frame_len) == 8);

	/* Field macros agree with each other. */
	FIELD_OK(HSNIC_VERSION_MINOR);
	FIELD_OK(HSNIC_VERSION_MAJOR);
	FIELD_OK(HSNIC_ERR_CODE);
	FIELD_OK(HSNIC_ERR_QUEUE);

	/* Global registers: 4-byte aligned, distinct, below the IRQ block. */
	for (i = 0; i < sizeof(global) / sizeof(global[0]); i++) {
		CHECK(global[i] % 4 == 0);
		CHECK(global[i] < HSNIC_REG_IRQ_CTRL(0));
		sorted[i] = global[i];
	}
	qsort(sorted, sizeof(sorted) / sizeof(sorted[0]), sizeof(sorted[0]),
	      cmp_u32);
	for (i = 1; i < sizeof(sorted) / sizeof(sorted[0]); i++)
		CHECK(sorted[i] != sorted[i - 1]);

	/* Queue registers fit their stride; TX and RX blocks don't meet. */
	for (i = 0; i < sizeof(qregs) / sizeof(qregs[0]); i++) {
		CHECK(qregs[i] % 4 == 0);
		CHECK(qregs[i] < HSNIC_Q_STRIDE);
	}
	CHECK(HSNIC_TXQ_REG(HSNIC_MAX_QP - 1, HSNIC_Q_STRIDE - 4) <
	      HSNIC_RXQ_BASE);
	CHECK(HSNIC_RXQ_REG(HSNIC_MAX_QP - 1, HSNIC_Q_STRIDE - 4) <
	      HSNIC_DB_BASE);
	CHECK(HSNIC_TXQ_REG(1, HSNIC_Q_CTRL) ==
	      HSNIC_TXQ_BASE + HSNIC_Q_STRIDE + HSNIC_Q_CTRL);

	/* Doorbells: distinct 4-byte slots, inside BAR0. */
	CHECK(HSNIC_DB_TX(0) != HSNIC_DB_RX(0));
	CHECK(HSNIC_DB_RX(0) + 4 == HSNIC_DB_TX(1));
	CHECK(HSNIC_DB_RX(HSNIC_MAX_QP - 1) + 4 <= HSNIC_BAR0_SIZE);

	/* Ring limits are powers of two; vectors as documented. */
	CHECK((HSNIC_MIN_RING & (HSNIC_MIN_RING - 1)) == 0);
	CHECK((HSNIC_MAX_RING & (HSNIC_MAX_RING - 1)) == 0);
	CHECK(HSNIC_VEC_EVENTS == 0 && HSNIC_VEC_QP(0) == 1);
	CHECK(HSNIC_MAX_FRAME <= 0xffff);	/* rx_cmpl.buf_len is 16 bits */

	if (failures) {
		fprintf(stderr, "test-abi: %d checks failed\n", failures);
		return 1;
	}
	printf("test-abi: all checks passed\n");
	return 0;
}
