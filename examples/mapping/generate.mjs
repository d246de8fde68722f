#!/usr/bin/env node
// Generates the example mapping tables in this folder from the BUILT SDK
// (npm run build first). ILLUSTRATIVE DATA: the 基本编码 (00TB…, 36TB…), the
// agencies' 统一社会信用代码 and the 实施编码 are made up (with valid check
// characters); the item names, materials and regions are realistic.
//   node examples/mapping/generate.mjs
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { exportImplementationCsv, organizationCodeCheck, usccCheckCharacter } from "../../packages/sdk/dist/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const write = (name, value) => writeFileSync(join(here, name), typeof value === "string" ? value : `${JSON.stringify(value, null, 2)}\n`);
const NOTE = "ILLUSTRATIVE: codes are made up for the Tongban examples (valid shapes and check characters); names and regions are real.";
const ISSUED = "2026-01-01";

/** A government agency's USCC: 1 (机构编制) 1 (机关) + region + 组织机构代码 + check. */
function agency(region, serial) {
  const body = `${String(serial).padStart(8, "0")}`;
  const org = body + organizationCodeCheck(body);
  const first17 = `11${region}${org}`;
  return first17 + usccCheckCharacter(first17);
}

const M = {
  ID: ["M001", "居民身份证"],
  HUKOU: ["M002", "居民户口簿"],
  PHOTO2: ["M003", "近期半身免冠双人合影照片"],
  PHOTO1: ["M004", "近期一寸免冠照片"],
  FORM: ["M005", "申请表"],
  ARTICLES: ["M006", "公司章程"],
  BIRTH_RECORD: ["M007", "分娩记录"],
  BIRTH_CERT: ["M008", "出生医学证明"],
  PAYMENT: ["M009", "参保缴费凭证"],
  TRANSFER_LETTER: ["M010", "基本养老保险关系转移接续联系函"],
  MOVE_PERMIT: ["M011", "准予迁入证明"],
  MOVE_CERT: ["M012", "户口迁移证"],
};
const mat = (...ms) => ms.map(([code, name]) => ({ code, name }));
const CATALOG = [
  { basicCode: "00TB00000101", name: "补领婚姻登记证", type: "行政确认", materials: mat(M.ID, M.HUKOU, M.PHOTO2), legalWorkingDays: 1 },
  { basicCode: "00TB00000102", name: "老年人优待证办理", type: "公共服务", materials: mat(M.ID, M.PHOTO1), legalWorkingDays: 5 },
  { basicCode: "00TB00000201", name: "企业设立登记", type: "行政许可", materials: mat(M.FORM, M.ARTICLES, M.ID), legalWorkingDays: 3 },
  { basicCode: "00TB00000301", name: "出生医学证明签发", type: "公共服务", materials: mat(M.BIRTH_RECORD, M.ID), legalWorkingDays: 5 },
  { basicCode: "00TB00000302", name: "出生登记", type: "行政确认", materials: mat(M.BIRTH_CERT, M.HUKOU, M.ID), legalWorkingDays: 5 },
  { basicCode: "00TB00000303", name: "城乡居民基本医疗保险参保登记", type: "公共服务", materials: mat(M.ID, M.HUKOU), legalWorkingDays: 5 },
  { basicCode: "00TB00000304", name: "社会保障卡申领", type: "公共服务", materials: mat(M.ID, M.PHOTO1), legalWorkingDays: 10 },
  { basicCode: "00TB00000401", name: "基本养老保险关系转出", type: "公共服务", materials: mat(M.ID, M.PAYMENT), legalWorkingDays: 15 },
  { basicCode: "00TB00000402", name: "基本养老保险关系转入", type: "公共服务", materials: mat(M.ID, M.TRANSFER_LETTER), legalWorkingDays: 15 },
  { basicCode: "00TB00000501", name: "户口迁出", type: "行政确认", materials: mat(M.HUKOU, M.MOVE_PERMIT), legalWorkingDays: 5 },
  { basicCode: "00TB00000502", name: "户口迁入", type: "行政确认", materials: mat(M.ID, M.HUKOU, M.MOVE_CERT), legalWorkingDays: 5 },
];
write("catalog.json", { kind: "catalog", publisher: "national", version: 1, issued: ISSUED, note: NOTE, items: CATALOG });

// How each region names things and lays out its forms.
const STYLES = {
  "310118": { // 青浦 (Shanghai)
    materialNames: { M001: "居民身份证", M002: "户口本", M003: "双人合影照片", M004: "一寸照片", M005: "申请书", M006: "公司章程", M007: "分娩记录", M008: "出生医学证明", M009: "缴费凭证", M010: "转移接续联系函", M011: "准迁证", M012: "迁移证" },
    fields: [
      { local: "申请人姓名", canonical: "applicant_name" },
      { local: "出生日期", canonical: "birth_date", transform: { kind: "date", format: "YYYYMMDD" } },
      { local: "性别", canonical: "sex", transform: { kind: "code", map: { 男: "M", 女: "F" } } },
      { local: "联系地址", canonical: "address", transform: { kind: "join", separator: "|", canonical: ["province", "city", "street"] } },
    ],
  },
  "320509": { // 吴江 (Jiangsu)
    materialNames: { M001: "身份证原件", M002: "户口簿原件", M003: "夫妻合影照片", M004: "小一寸照片", M005: "登记申请表", M006: "章程", M007: "医院分娩记录", M008: "出生证", M009: "参保缴费证明", M010: "联系函", M011: "准予迁入证明", M012: "户口迁移证" },
    fields: [
      { local: "姓名", canonical: "applicant_name" },
      { local: "出生年月日", canonical: "birth_date", transform: { kind: "date", format: "YYYY年MM月DD日" } },
      { local: "性别代码", canonical: "sex", transform: { kind: "code", map: { "1": "M", "2": "F" } } },
      { local: "省份", canonical: "province" },
      { local: "城市", canonical: "city" },
      { local: "详细地址", canonical: "street" },
    ],
  },
  "330421": { // 嘉善 (Zhejiang) — kept as CSV, as many vendors do
    materialNames: { M001: "身份证", M002: "户口簿", M003: "合照", M004: "证件照", M005: "申请表", M006: "公司章程", M007: "分娩记录", M008: "出生医学证明", M009: "缴费凭证", M010: "转移联系函", M011: "准迁证明", M012: "迁移证" },
    fields: [
      { local: "申请人", canonical: "applicant_name" },
      { local: "生日", canonical: "birth_date", transform: { kind: "date", format: "YYYY/MM/DD" } },
      { local: "性别", canonical: "sex", transform: { kind: "code", map: { 男性: "M", 女性: "F" } } },
      { local: "住址", canonical: "address", transform: { kind: "join", separator: " ", canonical: ["province", "city", "street"] } },
    ],
  },
  "330802": { // 柯城 (Zhejiang)
    materialNames: { M001: "身份证", M002: "户口簿", M003: "合影照片", M004: "一寸照片" },
    fields: [
      { local: "姓名", canonical: "applicant_name" },
      { local: "出生日期", canonical: "birth_date", transform: { kind: "date", format: "YYYY-MM-DD" } },
    ],
  },
  "361129": { // 万年 (Jiangxi)
    materialNames: { M001: "居民身份证", M002: "户口本", M003: "结婚合影", M004: "近期照片" },
    fields: [
      { local: "申请人姓名", canonical: "applicant_name" },
      { local: "出生日期", canonical: "birth_date", transform: { kind: "date", format: "YYYYMMDD" } },
    ],
  },
};
const LOCAL_NAMES = {
  "310118": { "00TB00000101": "补领结婚证", "00TB00000201": "企业开办（设立登记）" },
  "320509": { "00TB00000101": "补发婚姻登记证", "00TB00000304": "社保卡申领" },
  "330421": { "00TB00000101": "补领婚姻登记证（跨省通办）", "00TB00000303": "城乡居民医保参保" },
  "330802": { "00TB00000101": "婚姻登记证补领" },
  "361129": {},
};

function list(region, serialBase, codes, extra = []) {
  const style = STYLES[region];
  const items = codes.map((basicCode, i) => {
    const c = CATALOG.find((x) => x.basicCode === basicCode);
    const ag = agency(region, serialBase + i);
    return {
      implementationCode: `${ag}0${basicCode}`,
      basicCode,
      name: LOCAL_NAMES[region][basicCode] ?? c.name,
      agency: ag,
      promisedWorkingDays: Math.max(1, Math.ceil(c.legalWorkingDays / 2)),
      feeFen: 0,
      modes: ["remote_receipt", "full_online", ...(basicCode.startsWith("00TB000003") || basicCode.startsWith("00TB000004") || basicCode.startsWith("00TB000005") ? ["joint"] : [])],
      receivesForOthers: true,
      materials: c.materials.map((m) => ({ localName: style.materialNames[m.code] ?? m.name, nationalCode: m.code, required: true })),
      fields: style.fields,
    };
  });
  return { kind: "implementation", publisher: region, version: 1, issued: ISSUED, note: NOTE, items: [...items, ...extra] };
}

const ALL = CATALOG.map((c) => c.basicCode);
write("310118.json", list("310118", 31011801, ALL));
write("320509.json", list("320509", 32050901, ALL));
const jiashan = list("330421", 33042101, ALL);
write("330421.csv", exportImplementationCsv(jiashan));
write("330421.meta.json", { publisher: "330421", version: 1, issued: ISSUED, note: NOTE });

// 柯城 offers 老年人优待证办理 under the national code; 万年 has no such national
// item — it issues its own, locally coded, similarly named one. The two cannot
// be matched by code, only suggested by name: the 柯城/万年 gap.
write("330802.json", list("330802", 33080201, ["00TB00000101", "00TB00000102", "00TB00000304"]));
const wannianAgency = agency("361129", 36112999);
write("361129.json", list("361129", 36112901, ["00TB00000101", "00TB00000304"], [
  {
    implementationCode: `${wannianAgency}036TB00000001`,
    basicCode: "36TB00000001",
    name: "老年优待证申领",
    agency: wannianAgency,
    promisedWorkingDays: 3,
    feeFen: 0,
    modes: ["full_online"],
    receivesForOthers: false,
    materials: [{ localName: "居民身份证", nationalCode: "M001", required: true }],
    fields: STYLES["361129"].fields,
  },
]));

write("agreements.json", {
  kind: "agreements",
  publisher: "yrd-and-partners",
  version: 1,
  issued: ISSUED,
  note: NOTE,
  agreements: [
    { id: "yrd-demonstration-zone", regions: ["310118", "320509", "330421"], items: ["*"], modes: ["full_online", "remote_receipt", "joint"], validFrom: "2025-01-01", validTo: "2030-12-31" },
    { id: "kecheng-wannian", regions: ["330802", "361129"], items: ["00TB00000101", "00TB00000102", "00TB00000304", "36TB00000001"], modes: ["full_online", "remote_receipt"], validFrom: "2024-06-01", validTo: "2029-05-31" },
  ],
});
process.stdout.write("wrote the example mapping tables\n");
