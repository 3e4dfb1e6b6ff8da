// The flow-sink contract: per-flow consumers (conditional store, file extraction, printers…) that run inside the
// flow-owning worker. A sink module exports `createSink(options, ctx)`; runFlows() loads it in every worker.

import type { PacketBatch } from '../pcap/batch.js';
import type { PacketView } from '../decode/view.js';
import type { FlowRecord } from '../flow/record.js';

/** One packet as a sink sees it. The object and `view` are reused: valid only during onPacket. */
export interface PacketContext {
  batch: PacketBatch;
  i: number;
  view: PacketView;
  /** The packet's flow record, built on first access (cheap sinks key their state by `slot` instead). */
  readonly flow: FlowRecord;
  /** The flow's slot in this worker's table: unique among live flows, reused after the flow ends. */
  slot: number;
  toServer: boolean;
  /** packet number in the whole input, 0-based */
  packetIndex: number;
  /**
   * The calling sink is done with this flow: no more packets and no onFlowEnd for it reach this sink, so it drops
   * its state for the flow now. A flow every sink ignored ends without a record being built (unless records are
   * collected for output).
   */
  ignore(): void;
}

/** A per-worker consumer of flows; packets arrive in capture order per flow, onFlowEnd after the flow's last packet. */
export interface FlowSink<R = unknown> {
  onPacket(ctx: PacketContext): void;
  /** The flow ended (`slot` is its table slot, free again after this call). */
  onFlowEnd(flow: FlowRecord, slot: number): void;
  /** end of input: flush, return a structured-clone-able result */
  finish(): R | Promise<R>;
  /**
   * Optional: packets that belong to no flow (not IP), in capture order; called in worker 0 only, so each such
   * packet reaches exactly one instance. The batch and index are valid only during the call.
   */
  onOtherPacket?(batch: PacketBatch, i: number, packetIndex: number): void;
}

/** Which worker a sink instance runs in. */
export interface SinkContext { worker: number; workers: number }

/** A sink to load: a compiled ESM module (absolute path or file URL under dist/) and structured-clone-able options. */
export interface SinkSpec { module: string; options: unknown }

/** What a sink module exports. */
export type CreateSink = (options: unknown, ctx: SinkContext) => FlowSink | Promise<FlowSink>;
