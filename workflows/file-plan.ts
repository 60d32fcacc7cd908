import { patched } from '@temporalio/workflow';
import type { PlanRangesInput } from '../activities/plan-export';
import {
  DEFAULT_MAX_FILE_BYTES,
  type Column,
  type DeliveryInput,
  type DeliveryTarget,
} from '../common/contracts/delivery';
import { exportDataset, planRanges } from './delivery-activities';

/** What a continued run needs from the runs before it. No secrets, and no per-file lists: those live in our table. */
export interface ContinuedDelivery {
  target: DeliveryTarget;
  columns: Column[];
  keyTypes: string[];
  fileCount: number;
  nextFile: number;
}

/**
 * A delivery's files as far as they are planned. A new run plans them with
 * exportDataset: every key range at once, or (since the 'plan-while-exporting'
 * patch) only the first, leaving the rest to planRest, which uploadFiles runs
 * while the first file exports. A continued run starts with the plan of the runs
 * before it. The file count changes only here.
 */
export class FilePlan {
  private constructor(
    private readonly state: ContinuedDelivery,
    private rest: PlanRangesInput | undefined,
  ) {}

  static continued(state: ContinuedDelivery): FilePlan {
    return new FilePlan(state, undefined);
  }

  static async plan(input: DeliveryInput, target: DeliveryTarget): Promise<FilePlan> {
    const maxFileBytes = input.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    // Histories recorded before this change planned every range first; they replay that way.
    const overlap = patched('plan-while-exporting');
    const plan = await exportDataset({
      deliveryId: input.deliveryId,
      profileId: input.profileId,
      datasetId: input.datasetId,
      format: input.format,
      compression: input.compression,
      maxFileBytes,
      ...(overlap ? { planRestLater: true } : {}),
    });
    const keyTypes = plan.keyTypes ?? [];
    const state: ContinuedDelivery = {
      target,
      columns: plan.columns,
      keyTypes,
      fileCount: plan.fileCount ?? 1,
      nextFile: 0,
    };
    const rest =
      plan.restPlanned === false ? { ...input, rowsPerFile: plan.rowsPerFile ?? 1, keyTypes, maxFileBytes } : undefined;
    return new FilePlan(state, rest);
  }

  get target(): DeliveryTarget {
    return this.state.target;
  }

  get columns(): Column[] {
    return this.state.columns;
  }

  get keyTypes(): string[] {
    return this.state.keyTypes;
  }

  get fileCount(): number {
    return this.state.fileCount;
  }

  /** The first file this run uploads. */
  get nextFile(): number {
    return this.state.nextFile;
  }

  /** Whether the ranges after the first are still to be planned. */
  get restToPlan(): boolean {
    return this.rest !== undefined;
  }

  /** Plans the ranges after the first. */
  async planRest(): Promise<void> {
    if (!this.rest) return;
    this.state.fileCount = (await planRanges(this.rest)).fileCount;
    this.rest = undefined;
  }

  /** What the next run needs to continue from file `nextFile`. */
  continueFrom(nextFile: number): ContinuedDelivery {
    return { ...this.state, nextFile };
  }
}
