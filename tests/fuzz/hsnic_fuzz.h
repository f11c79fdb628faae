/*
 * Helpers shared by hsnic's libFuzzer targets (hsnic_rx_fuzz.c,
 * hsnic_tx_fuzz.c): finding the device, MSI-X set-up, and the operations
 * every target offers (clock steps, bus mastering, DEV_CTRL).
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

#ifndef HSNIC_FUZZ_H
#define HSNIC_FUZZ_H

#include "qemu/bswap.h"
#include "qemu/timer.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/pci-pc.h"
#include "hw/pci/pci_regs.h"
#include "standard-headers/misc/hsnic_abi.h"
#include "fuzz.h"

/* The devfn of the machine's hsnic (for a target's pre_fuzz). */
static inline int hsnic_fuzz_find_devfn(QTestState *s)
{
    QPCIBus *bus = qpci_new_pc(s, NULL);
    int devfn, found = -1;

    for (devfn = 0; devfn < 256 && found < 0; devfn++) {
        QPCIDevice *dev = qpci_device_find(bus, devfn);

        if (dev && qpci_config_readw(dev, PCI_VENDOR_ID) ==
                   HSNIC_PCI_VENDOR_ID &&
            qpci_config_readw(dev, PCI_DEVICE_ID) == HSNIC_PCI_DEVICE_ID) {
            found = devfn;
        }
        g_free(dev);
    }
    qpci_free_pc(bus);
    g_assert(found >= 0);
    return found;
}

/* The machine of a target: q35, @ram of RAM, hsnic on a hub port. */
static inline GString *hsnic_fuzz_cmdline(const char *netdev,
                                          const char *ram, int qp,
                                          int max_ring)
{
    GString *cmd = g_string_new(TARGET_NAME);

    g_string_append_printf(cmd, " -display none -machine q35,accel=qtest "
                           "-m %s -nodefaults "
                           "-netdev hubport,id=%s,hubid=0 "
                           "-device hsnic,netdev=%s,queue-pairs=%d,"
                           "max-ring=%d %s ", ram, netdev, netdev, qp,
                           max_ring, getenv("HSNIC_FUZZ_ARGS") ?: "");
    return cmd;
}

/* MSI-X on, vectors 0 .. @nvec - 1 unmasked, messages to RAM. */
static inline void hsnic_fuzz_msix(QPCIDevice *dev, unsigned nvec,
                                   uint64_t msi_addr)
{
    unsigned v;

    qpci_msix_enable(dev);
    for (v = 0; v < nvec; v++) {
        uint64_t e = dev->msix_table_off + v * PCI_MSIX_ENTRY_SIZE;

        qpci_io_writel(dev, dev->msix_table_bar,
                       e + PCI_MSIX_ENTRY_LOWER_ADDR, msi_addr + 4 * v);
        qpci_io_writel(dev, dev->msix_table_bar,
                       e + PCI_MSIX_ENTRY_UPPER_ADDR, 0);
        qpci_io_writel(dev, dev->msix_table_bar, e + PCI_MSIX_ENTRY_DATA, v);
        qpci_io_writel(dev, dev->msix_table_bar,
                       e + PCI_MSIX_ENTRY_VECTOR_CTRL, 0);
    }
}

/*
 * OP_CLOCK: advance the virtual clock by (1 + operand) microseconds, or
 * to the next timer deadline without an operand. The step is never 0
 * (qtest refuses a clock_step that does not advance the clock).
 */
static inline void hsnic_fuzz_clock(QTestState *qts, const uint8_t *d,
                                    size_t len)
{
    int64_t ns;

    if (len >= 2) {
        ns = 1000 * (1 + (int64_t)lduw_le_p(d));
    } else {
        ns = qemu_clock_deadline_ns_all(QEMU_CLOCK_VIRTUAL,
                                        QEMU_TIMER_ATTR_ALL);
        ns = ns < 0 ? 1000 : MAX(ns, 1);
    }
    qtest_clock_step(qts, ns);
    flush_events(qts);
}

/* OP_PCI_CMD: memory space on, bus mastering as bit 0 says. */
static inline void hsnic_fuzz_pci_cmd(QTestState *qts, QPCIDevice *dev,
                                      const uint8_t *d, size_t len)
{
    uint16_t cmd = PCI_COMMAND_MEMORY;

    if (len >= 1 && (d[0] & 1)) {
        cmd |= PCI_COMMAND_MASTER;
    }
    qpci_config_writew(dev, PCI_COMMAND, cmd);
    flush_events(qts);
}

/* OP_DEV_CTRL: the operand's byte to DEV_CTRL. */
static inline void hsnic_fuzz_dev_ctrl(QTestState *qts, QPCIDevice *dev,
                                       QPCIBar bar, const uint8_t *d,
                                       size_t len)
{
    if (len < 1) {
        return;
    }
    qpci_io_writel(dev, bar, HSNIC_REG_DEV_CTRL, d[0]);
    flush_events(qts);
}

/*
 * OP_CONFIG: [offset][size][value 32 LE]: a write of 1, 2 or 4 bytes
 * (size % 3: 1, 2, 4) to the device's configuration space: command and
 * status, the PM (D3hot), MSI-X (enable, function mask) and PCI Express
 * (FLR) capabilities, every other byte. Not the BARs and the ROM address:
 * the harness keeps the BARs where it mapped them.
 */
static inline void hsnic_fuzz_config(QTestState *qts, QPCIDevice *dev,
                                     const uint8_t *d, size_t len)
{
    unsigned size, off;
    uint32_t val;

    if (len < 6) {
        return;
    }
    size = 1u << (d[1] % 3);
    off = d[0] & ~(size - 1);
    val = ldl_le_p(d + 2);
    if ((off >= PCI_BASE_ADDRESS_0 && off < PCI_CARDBUS_CIS) ||
        (off >= PCI_ROM_ADDRESS && off < PCI_ROM_ADDRESS + 4)) {
        return;
    }
    switch (size) {
    case 1:
        qpci_config_writeb(dev, off, val);
        break;
    case 2:
        qpci_config_writew(dev, off, val);
        break;
    default:
        qpci_config_writel(dev, off, val);
        break;
    }
    flush_events(qts);
}

/*
 * OP_MSIX_SELF: [vector][where][offset 16 LE][data 32 LE]: the MSI-X
 * message of vector (vector % @nvec) aimed at the device itself, at
 * @offset in BAR0 (registers, doorbells; where bit 0 clear) or in the
 * MSI-X BAR (table, PBA; bit 0 set), with @data, unmasked. The device
 * must never turn its own messages into register writes (the re-entrancy
 * guard); they are lost instead.
 */
static inline void hsnic_fuzz_msix_self(QTestState *qts, QPCIDevice *dev,
                                        QPCIBar regs, unsigned nvec,
                                        const uint8_t *d, size_t len)
{
    uint64_t e, addr;

    if (len < 8 || !nvec || !dev->msix_enabled) {
        return;
    }
    e = dev->msix_table_off + (d[0] % nvec) * PCI_MSIX_ENTRY_SIZE;
    addr = ((d[1] & 1) ? dev->msix_table_bar.addr : regs.addr) +
           (lduw_le_p(d + 2) & ~3u);
    qpci_io_writel(dev, dev->msix_table_bar, e + PCI_MSIX_ENTRY_LOWER_ADDR,
                   addr);
    qpci_io_writel(dev, dev->msix_table_bar, e + PCI_MSIX_ENTRY_UPPER_ADDR,
                   addr >> 32);
    qpci_io_writel(dev, dev->msix_table_bar, e + PCI_MSIX_ENTRY_DATA,
                   ldl_le_p(d + 4));
    qpci_io_writel(dev, dev->msix_table_bar, e + PCI_MSIX_ENTRY_VECTOR_CTRL,
                   0);
    flush_events(qts);
}

#endif
