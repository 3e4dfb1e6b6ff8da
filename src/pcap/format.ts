// Capture-format constants and the description of an input's format (what `info` reports).

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
/** Kuznetzov's modified pcap (24-byte record headers). */
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;
export const PCAPNG_SHB = 0x0a0d0d0a;
export const PCAPNG_BOM = 0x1a2b3c4d;
export const GZIP_MAGIC0 = 0x1f;
export const GZIP_MAGIC1 = 0x8b;

/** Largest pcapng block accepted (libpcap's cap): a bigger length is a lie, and never buffered. */
export const PCAPNG_MAX_BLOCK = 16 * 1024 * 1024;

/** libpcap keeps only the low 26 bits of the header's link-type word (the rest carries FCS flags). */
export const LINKTYPE_MASK = 0x03ffffff;

/** libpcap's largest caplen per link type before a record is declared corrupt. */
export function maxCaplenFor(linkType: number): number {
  if (linkType === 231) return 128 * 1024 * 1024; // DBUS
  if (linkType === 279) return 8 * 1024 * 1024; // EBHSCR
  if (linkType === 249) return 1024 * 1024; // USBPCAP
  return 262144;
}

/** What an input turned out to be. */
export interface CaptureFormat {
  kind: 'pcap' | 'pcapng';
  byteOrder: 'LE' | 'BE';
  /** Time resolution of the file (pcapng: of its first interface). */
  resolution: 'usec' | 'nsec' | string;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  /** Link type of classic files; of the first interface for pcapng. */
  linkType: number;
  gzip: boolean;
}

/** One pcapng interface (classic files have exactly one). */
export interface CaptureInterface {
  linkType: number;
  snaplen: number;
  /** Ticks per second as a power: value = base^-exp. */
  tsresolBase: 10 | 2;
  tsresolExp: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  tsoffset: number;
  name?: string;
}

const NAMES: Record<number, [string, string]> = {
  0: ['NULL', 'BSD loopback'],
  1: ['EN10MB', 'Ethernet'],
  101: ['RAW', 'Raw IP'],
  108: ['LOOP', 'OpenBSD loopback'],
  113: ['LINUX_SLL', 'Linux cooked v1'],
  276: ['LINUX_SLL2', 'Linux cooked v2'],
  228: ['IPV4', 'Raw IPv4'],
  229: ['IPV6', 'Raw IPv6'],
  105: ['IEEE802_11', '802.11'],
  127: ['IEEE802_11_RADIO', '802.11 plus radiotap header'],
  9: ['PPP', 'PPP'],
  50: ['PPP_HDLC', 'PPP over serial'],
  104: ['C_HDLC', 'Cisco HDLC'],
};

/** tcpdump's `NAME (description)` for a link type, or `DLTn`. */
export function linkTypeName(lt: number): string {
  const n = NAMES[lt];
  return n ? `${n[0]} (${n[1]})` : `${lt}`;
}
