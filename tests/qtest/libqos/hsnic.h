/*
 * libqos driver for the hsnic NIC
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The registers, descriptors and completions come from the device ABI
 * header (include/standard-headers/misc/hsnic_abi.h), the one the device
 * model and the Linux driver use.
 */

#ifndef QGRAPH_HSNIC_H
#define QGRAPH_HSNIC_H

#include "qgraph.h"
#include "pci.h"
#include "libqos-malloc.h"
#include "standard-headers/misc/hsnic_abi.h"

#define QHSNIC_MAC { 0x52, 0x54, 0x00, 0x48, 0x53, 0x4e }

typedef struct QHsnic {
    QOSGraphObject obj;
    QPCIDevice pci_dev;
    QPCIBar bar;
    QGuestAllocator *alloc;
    uint32_t num_qp;
} QHsnic;

/* A TX queue as the test sees it: its rings and producer state. */
typedef struct QHsnicTxq {
    unsigned q;
    uint32_t size;
    uint64_t desc;
    uint64_t cmpl;
    uint32_t tail;      /* next descriptor slot to fill */
    uint32_t cidx;      /* next completion slot to read */
    uint8_t gen;        /* generation expected at cidx */
} QHsnicTxq;

/* An RX queue; payload buffers (and header buffers with HDS) posted. */
typedef struct QHsnicRxq {
    unsigned q;
    uint32_t size;
    uint32_t buf_len;
    uint32_t hdr_buf_len;   /* 0: no header split */
    uint64_t desc;
    uint64_t hdr;
    uint64_t cmpl;
    uint64_t bufs;          /* size * buf_len bytes, slot i at i * buf_len */
    uint64_t hdr_bufs;      /* size * hdr_buf_len bytes */
    uint32_t cidx;
    uint8_t gen;
} QHsnicRxq;

uint32_t qhsnic_rd(QHsnic *d, uint32_t reg);
void qhsnic_wr(QHsnic *d, uint32_t reg, uint32_t val);
void qhsnic_set_addr(QHsnic *d, uint32_t lo, uint64_t addr);
uint64_t qhsnic_stat64(QHsnic *d, uint32_t lo);
uint64_t qhsnic_dstat(QHsnic *d, enum hsnic_dstat i);
uint64_t qhsnic_rx_qstat(QHsnic *d, unsigned q, enum hsnic_rx_qstat i);
uint64_t qhsnic_tx_qstat(QHsnic *d, unsigned q, enum hsnic_tx_qstat i);

/* Let the device's bottom halves and timers run once. */
void qhsnic_run(QHsnic *d);

void qhsnic_txq_init(QHsnic *d, QHsnicTxq *t, unsigned q, uint32_t size);
uint32_t qhsnic_txq_enable(QHsnic *d, QHsnicTxq *t);
void qhsnic_tx_post(QHsnic *d, QHsnicTxq *t, uint64_t addr, uint32_t len,
                    uint32_t cmd);
void qhsnic_tx_ring(QHsnic *d, QHsnicTxq *t);
bool qhsnic_tx_cmpl(QHsnic *d, QHsnicTxq *t, struct hsnic_tx_cmpl *c);

void qhsnic_rxq_init(QHsnic *d, QHsnicRxq *r, unsigned q, uint32_t size,
                     uint32_t buf_len, uint32_t hdr_buf_len);
uint32_t qhsnic_rxq_enable(QHsnic *d, QHsnicRxq *r);
void qhsnic_rx_post_all(QHsnic *d, QHsnicRxq *r);
bool qhsnic_rx_cmpl(QHsnic *d, QHsnicRxq *r, struct hsnic_rx_cmpl *c);
void qhsnic_queue_disable(QHsnic *d, unsigned q, bool rx);

#endif
