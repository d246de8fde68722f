import type { ErrorCode } from "../errors/index.js";
import type { Agreement, FieldMapping, HandlingModeName, ImplementationItem, TableRef } from "./model.js";
import type { MappingRegistry } from "./registry.js";

/** What to resolve. */
export interface ResolveQuery {
  /** GB/T 2260 code of the region whose window takes the application (收件地). */
  readonly receivingRegion: string;
  /** GB/T 2260 code of the region that handles it (办理地). */
  readonly handlingRegion: string;
  /** Either side's 实施编码, or the 基本编码. */
  readonly item: string;
  /** Default "remote_receipt". */
  readonly mode?: HandlingModeName;
  /** ISO date the agreement must be in force on; default today (UTC). */
  readonly date?: string;
}

/** The gap codes a resolution can end in (docs/mapping.md). */
export type GapCode = Extract<ErrorCode, `GAP_${string}`>;

/** A material the handling site requires, in both sites' terms. */
export interface ResolvedMaterial {
  readonly nationalCode: string;
  readonly nationalName: string | undefined;
  readonly handlingName: string;
  /** The receiving site's name for it; undefined when it has no counterpart. */
  readonly receivingName: string | undefined;
  readonly required: boolean;
}

/** A successful resolution. */
export interface Resolved {
  readonly ok: true;
  readonly query: Required<ResolveQuery>;
  readonly basicCode: string;
  readonly nationalName: string | undefined;
  readonly handling: { readonly region: string; readonly item: ImplementationItem };
  /** The receiving site's own item for the same 基本编码, if it has one. */
  readonly receiving: { readonly region: string; readonly item: ImplementationItem | undefined };
  readonly agreement: string;
  readonly materials: readonly ResolvedMaterial[];
  /** Field mappings to translate a form from receiving to handling names (translateForm). */
  readonly fields: { readonly receiving: readonly FieldMapping[]; readonly handling: readonly FieldMapping[] };
  readonly promisedWorkingDays: number;
  readonly feeFen: number;
  /** The table versions this resolution was made against; a case records them. */
  readonly tables: readonly TableRef[];
}

/** A resolution that ends in a gap: not an exception, a result to show. */
export interface Gap {
  readonly ok: false;
  readonly query: Required<ResolveQuery>;
  readonly code: GapCode;
  readonly message: string;
  readonly basicCode: string | undefined;
  /** Nearest items by name at the handling site (or anywhere, for unknown items). */
  readonly candidates: readonly { region: string; implementationCode: string; basicCode: string; name: string; score: number }[];
  /** For GAP_MATERIAL_UNMAPPED: the required materials without a counterpart. */
  readonly unmappedMaterials: readonly ResolvedMaterial[];
  readonly tables: readonly TableRef[];
}

/** Either outcome. */
export type Resolution = Resolved | Gap;

/**
 * Resolves an item from a receiving region to a handling region. Checks, in
 * order (docs/mapping.md "Resolution"): the item is known → the handling
 * region offers it → an agreement covering both regions, the item and the
 * mode is in force → the handling item supports the mode → for remote
 * receipt and joint handling, the receiving region receives the item for
 * others and has a counterpart for every required material. The first
 * failing check is the gap.
 */
export function resolveItem(registry: MappingRegistry, query: ResolveQuery): Resolution {
  const q: Required<ResolveQuery> = {
    receivingRegion: query.receivingRegion,
    handlingRegion: query.handlingRegion,
    item: query.item,
    mode: query.mode ?? "remote_receipt",
    date: query.date ?? new Date().toISOString().slice(0, 10),
  };
  const tables = (extra: (TableRef | undefined)[]): TableRef[] => {
    const refs = [registry.refOf("catalog", "national"), ...extra, ...registry.agreementRefs];
    return refs.filter((r): r is TableRef => r !== undefined);
  };
  const gap = (code: GapCode, message: string, basicCode: string | undefined, candidates: Gap["candidates"] = [], unmappedMaterials: ResolvedMaterial[] = []): Gap => ({
    ok: false,
    query: q,
    code,
    message,
    basicCode,
    candidates,
    unmappedMaterials,
    tables: tables([registry.refOf("implementation", q.receivingRegion), registry.refOf("implementation", q.handlingRegion)]),
  });

  // 1. What item is this? A 基本编码, or some region's 实施编码.
  let basicCode: string | undefined;
  let givenName: string | undefined;
  if (q.item.length === 12) {
    basicCode = q.item;
    givenName = registry.catalogItem(q.item)?.name;
  } else {
    const found = registry.byImplementationCode(q.item);
    basicCode = found?.item.basicCode;
    givenName = found?.item.name;
  }
  const nationalName = basicCode === undefined ? undefined : registry.catalogItem(basicCode)?.name;
  const name = givenName ?? nationalName;
  if (basicCode === undefined || (name === undefined && !anyRegionOffers(registry, basicCode))) {
    return gap("GAP_ITEM_UNKNOWN", `${q.item} is in no loaded catalog or implementation list`, basicCode);
  }

  // 2. Does the handling region offer it?
  const handlingItem = registry.itemIn(q.handlingRegion, basicCode);
  if (handlingItem === undefined) {
    const candidates = name === undefined ? [] : registry.nearestByName(name, q.handlingRegion);
    return gap("GAP_ITEM_NOT_OFFERED", `region ${q.handlingRegion} does not offer ${name ?? basicCode} (${basicCode})`, basicCode, candidates);
  }

  // 3. Is an agreement in force?
  const agreement = findAgreement(registry.agreements, q, basicCode);
  if (agreement === undefined) {
    return gap("GAP_NO_AGREEMENT", `no partner agreement in force on ${q.date} lets ${q.receivingRegion} and ${q.handlingRegion} handle ${basicCode} as ${q.mode}`, basicCode);
  }

  // 4. Does the handling item support the mode?
  if (!handlingItem.modes.includes(q.mode)) {
    return gap("GAP_MODE_NOT_SUPPORTED", `${handlingItem.name} at ${q.handlingRegion} supports ${handlingItem.modes.join(", ")}, not ${q.mode}`, basicCode);
  }

  // 5. The receiving side: does its window receive this for others, and can it collect every required material?
  const receivingItem = registry.itemIn(q.receivingRegion, basicCode);
  const needsWindow = q.mode !== "full_online";
  if (needsWindow && (receivingItem === undefined || !receivingItem.receivesForOthers)) {
    return gap("GAP_NOT_RECEIVING", `region ${q.receivingRegion} does not receive ${handlingItem.name} (${basicCode}) for other regions`, basicCode);
  }
  const catalog = registry.catalogItem(basicCode);
  const materials: ResolvedMaterial[] = handlingItem.materials.map((m) => ({
    nationalCode: m.nationalCode,
    nationalName: catalog?.materials.find((c) => c.code === m.nationalCode)?.name,
    handlingName: m.localName,
    receivingName: receivingItem?.materials.find((r) => r.nationalCode === m.nationalCode)?.localName,
    required: m.required,
  }));
  const unmapped = needsWindow ? materials.filter((m) => m.required && m.receivingName === undefined) : [];
  if (unmapped.length > 0) {
    return gap("GAP_MATERIAL_UNMAPPED", `${unmapped.length} required material(s) of ${handlingItem.name} have no counterpart at ${q.receivingRegion}`, basicCode, [], unmapped);
  }

  return {
    ok: true,
    query: q,
    basicCode,
    nationalName,
    handling: { region: q.handlingRegion, item: handlingItem },
    receiving: { region: q.receivingRegion, item: receivingItem },
    agreement: agreement.id,
    materials,
    fields: { receiving: receivingItem?.fields ?? [], handling: handlingItem.fields },
    promisedWorkingDays: handlingItem.promisedWorkingDays,
    feeFen: handlingItem.feeFen,
    tables: tables([registry.refOf("implementation", q.receivingRegion), registry.refOf("implementation", q.handlingRegion)]),
  };
}

function anyRegionOffers(registry: MappingRegistry, basicCode: string): boolean {
  for (const region of registry.lists.keys()) if (registry.itemIn(region, basicCode)) return true;
  return false;
}

function findAgreement(agreements: readonly Agreement[], q: Required<ResolveQuery>, basicCode: string): Agreement | undefined {
  if (q.receivingRegion === q.handlingRegion) return { id: "same-region", regions: [q.receivingRegion], items: ["*"], modes: [q.mode], validFrom: q.date, validTo: q.date };
  return agreements.find(
    (a) =>
      a.regions.includes(q.receivingRegion) &&
      a.regions.includes(q.handlingRegion) &&
      (a.items.includes("*") || a.items.includes(basicCode)) &&
      a.modes.includes(q.mode) &&
      a.validFrom <= q.date &&
      q.date <= a.validTo,
  );
}
