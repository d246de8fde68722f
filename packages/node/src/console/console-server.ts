import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { X509Certificate } from "node:crypto";
import { fromBinary } from "@bufbuild/protobuf";
import { serializeCaseBundle } from "@tongban/sdk";
import { ApplicationSubmissionSchema, CaseState, HandlingMode, JointTaskState } from "@tongban/sdk/gen";
import { exportCaseBundle } from "../evidence/audit.js";
import type { ComposedNode } from "../compose.js";
import { caseByNumber, openCases, readCase, type CaseRecord } from "../handlers/case-effects.js";
import type { NodeEvent } from "../handlers/events.js";
import type { OutboxRecord } from "../outbox/outbox.js";
import { storeKeys } from "../store/keys.js";
import type { Store } from "../store/types.js";

/** A console user: a token (only its SHA-256 is kept) and a role. */
export interface ConsoleUser {
  readonly name: string;
  readonly sha256: string;
  /** `viewer` (read-only, the default) or `operator` (may retry and give up deliveries). */
  readonly role: "viewer" | "operator";
}

/** What the console shows and acts on. */
export interface ConsoleOptions {
  readonly nodeId: string;
  readonly host: string;
  readonly port: number;
  readonly users: readonly ConsoleUser[];
  readonly node: ComposedNode;
  readonly store: Store;
  readonly now?: () => Date;
}

/** A running console. */
export interface ConsoleHandle {
  readonly url: string;
  close(): Promise<void>;
}

type Lang = "zh" | "en";
const T: Record<string, [string, string]> = {
  title: ["通办节点控制台", "Tongban node console"],
  overview: ["概览", "Overview"],
  cases: ["办件", "Cases"],
  outbox: ["投递", "Deliveries"],
  partners: ["伙伴节点", "Partners"],
  tables: ["映射表", "Mapping tables"],
  tablesMissing: ["目录所列、本节点尚未启用的映射表", "Listed by the directory, not in force here"],
  evidence: ["留痕", "Evidence"],
  login: ["登录", "Sign in"],
  token: ["访问令牌", "Access token"],
  logout: ["退出", "Sign out"],
  open: ["在办", "Open cases"],
  yellow: ["黄灯", "Yellow deadlines"],
  red: ["红灯", "Red deadlines"],
  alerts: ["告警", "Alerts"],
  retry: ["重试", "Retry"],
  giveUp: ["放弃", "Give up"],
  state: ["状态", "State"],
  partner: ["伙伴", "Partner"],
  item: ["事项", "Item"],
  deadline: ["承诺时限", "Deadline"],
  timeline: ["过程", "Timeline"],
  search: ["按办件号或编号搜索", "Search by case number or id"],
  none: ["无", "none"],
  older: ["更早的办件", "Older cases"],
  status: ["状态", "Status"],
  attempts: ["次数", "Attempts"],
  error: ["错误", "Last error"],
  message: ["消息", "Message"],
  mode: ["办理模式", "Mode"],
  readOnly: ["只读", "read-only"],
  operator: ["操作员", "operator"],
  forbidden: ["只读用户不能执行此操作", "A read-only user cannot do this"],
  checkpoint: ["最新检查点", "Latest checkpoint"],
  directory: ["目录", "Directory"],
  materials: ["材料", "Materials"],
  seals: ["印章核验", "Seal checks"],
  bundle: ["导出留痕证据包", "Export the evidence bundle"],
};
const t = (k: string, lang: Lang) => (T[k] ?? [k, k])[lang === "zh" ? 0 : 1];
const esc = (s: unknown) => String(s ?? "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const dec = new TextDecoder();

interface Session {
  readonly user: ConsoleUser;
  readonly csrf: string;
}

/**
 * The operator console (docs/console.md): a small web UI served by the
 * node on its own port — overview, cases with their timelines and
 * deadlines, deliveries with retry and give-up for operators, partners,
 * mapping tables, evidence — bilingual (中文 first), live over
 * server-sent events from the node's event log. Every page needs a login
 * with a console token; viewers cannot act. No scripts or styles from
 * anywhere else.
 */
export async function startConsole(options: ConsoleOptions): Promise<ConsoleHandle> {
  const sessions = new Map<string, Session>();
  const { node, store } = options;
  const now = options.now ?? (() => new Date());

  const sessionOf = (req: IncomingMessage): Session | undefined => {
    const m = /(?:^|;\s*)tb_session=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? "");
    return m === null ? undefined : sessions.get(m[1]!);
  };
  const langOf = (req: IncomingMessage, url: URL): Lang => {
    const q = url.searchParams.get("lang");
    if (q === "en" || q === "zh") return q;
    return /(?:^|;\s*)tb_lang=en/.test(req.headers.cookie ?? "") ? "en" : "zh";
  };
  const page = (lang: Lang, session: Session | undefined, body: string, active = ""): string => `<!doctype html>
<html lang="${lang === "zh" ? "zh-CN" : "en"}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(t("title", lang))} — ${esc(options.nodeId)}</title><style>${CSS}</style></head>
<body><header><strong>${esc(t("title", lang))}</strong> <code>${esc(options.nodeId)}</code>
${session === undefined ? "" : `<nav aria-label="main">${["overview:/", "cases:/cases", "outbox:/outbox", "partners:/partners", "tables:/tables", "evidence:/evidence"].map((x) => { const [k, href] = x.split(":") as [string, string]; return `<a href="${href}"${active === k ? ' aria-current="page"' : ""}>${esc(t(k, lang))}</a>`; }).join(" ")}</nav>
<span class="who">${esc(session.user.name)} (${esc(t(session.user.role === "operator" ? "operator" : "readOnly", lang))}) · <a href="?lang=${lang === "zh" ? "en" : "zh"}">${lang === "zh" ? "English" : "中文"}</a> · <form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="${esc(session.csrf)}"><button>${esc(t("logout", lang))}</button></form></span>`}
</header><main id="main">${body}</main>${session === undefined ? "" : `<script src="/app.js"></script>`}</body></html>`;

  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "text/html; charset=utf-8", "x-content-type-options": "nosniff", "x-frame-options": "DENY", "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'", "cache-control": "no-store", ...headers });
    res.end(body);
  };
  const readForm = async (req: IncomingMessage): Promise<URLSearchParams> => {
    let text = "";
    for await (const chunk of req) {
      text += chunk;
      if (text.length > 10_000) break;
    }
    return new URLSearchParams(text);
  };

  // The deliveries not acknowledged (what waits, and what failed): the ledger lists them, so no walk over every message sent.
  const unacknowledged = async (): Promise<OutboxRecord[]> => {
    const out: OutboxRecord[] = [];
    for (const id of [...node.outboxLedger.unacknowledged().keys()]) {
      const r = await node.outbox.status(id);
      if (r !== undefined && r.status !== "ACKNOWLEDGED") out.push(r);
    }
    return out;
  };
  // The latest 20 alerts, newest first, among the last 100,000 events.
  const alerts = (): Promise<NodeEvent[]> => node.events.latest({ limit: 20, match: (e) => e.alert === true });

  const views: Record<string, (lang: Lang, url: URL, s: Session) => Promise<[string, string]>> = {
    "/": async (lang) => {
      // Open cases from their index and the outbox's counts from its ledger: the page costs what is open, not the node's history.
      const open: CaseRecord[] = [];
      for await (const c of openCases(store)) open.push(c);
      const byMode = new Map<string, number>();
      for (const c of open) byMode.set(HandlingMode[c.snapshot.mode] ?? "", (byMode.get(HandlingMode[c.snapshot.mode] ?? "") ?? 0) + 1);
      const counted = node.outboxLedger.counts();
      const count = (s: keyof typeof counted) => counted[s];
      const al = await alerts();
      return [
        "overview",
        `<h1>${esc(t("overview", lang))}</h1>
<div class="tiles"><div class="tile"><span class="n" data-testid="open-count">${open.length}</span>${esc(t("open", lang))}</div>
<div class="tile yellow"><span class="n">${open.filter((c) => c.deadlineLevel === "yellow").length}</span>${esc(t("yellow", lang))}</div>
<div class="tile red"><span class="n" data-testid="red-count">${open.filter((c) => c.deadlineLevel === "red").length}</span>${esc(t("red", lang))}</div>
<div class="tile"><span class="n">${count("RETRY_WAIT") + count("QUEUED") + count("SENDING")}</span>${esc(t("outbox", lang))} ↻</div>
<div class="tile red"><span class="n" data-testid="failed-count">${count("FAILED")}</span>FAILED</div></div>
<h2>${esc(t("mode", lang))}</h2><ul>${[...byMode].map(([m, n]) => `<li>${esc(m)}: ${n}</li>`).join("") || `<li>${esc(t("none", lang))}</li>`}</ul>
<h2>${esc(t("alerts", lang))}</h2><table><tr><th>time</th><th>type</th><th>case</th><th>${esc(t("partner", lang))}</th></tr>${al.map((e) => `<tr><td>${esc(e.at)}</td><td>${esc(e.type)}</td><td>${e.caseId ? `<a href="/cases/${esc(e.caseId)}">${esc(e.caseId.slice(0, 13))}…</a>` : ""}</td><td>${esc(e.partner ?? "")}</td></tr>`).join("")}</table>`,
      ];
    },
    "/cases": async (lang, url) => {
      // One page at a time, newest first (case ids are UUIDv7: they sort by time); `after` is the last case id shown.
      const q = (url.searchParams.get("q") ?? "").trim();
      const after = url.searchParams.get("after") ?? "";
      const limit = Math.min(500, Math.max(1, Math.floor(Number(url.searchParams.get("limit") ?? "100")) || 100));
      const list: CaseRecord[] = [];
      let more = false;
      // A whole case id or case number finds its case at once; anything else is a part of one.
      const exact = q === "" || after !== "" ? undefined : ((await readCase(store, q)) ?? (await caseByNumber(store, q)));
      if (exact !== undefined) list.push(exact);
      else {
        const range = storeKeys.case.range();
        for await (const e of store.iterate({ gte: range.gte, lt: after === "" ? range.lt : storeKeys.case.key(after), reverse: true })) {
          const c = JSON.parse(dec.decode(e.value)) as CaseRecord;
          if (q !== "" && !c.snapshot.caseId.includes(q) && !(c.caseNumber ?? "").includes(q)) continue;
          if (list.length === limit) {
            more = true;
            break;
          }
          list.push(c);
        }
      }
      // Joint cases (few: a lead's own) on the first page, the newest 100.
      const joints: { id: string; overall: string; lead: string; bundle: string }[] = [];
      if (after === "") {
        for await (const e of store.iterate({ ...storeKeys.joint.range(), reverse: true })) {
          const j = JSON.parse(dec.decode(e.value)) as { jointCaseId: string; overall: string; lead: string; bundle: string };
          if (q === "" || j.jointCaseId.includes(q)) joints.push({ id: j.jointCaseId, overall: j.overall, lead: j.lead, bundle: j.bundle });
          if (joints.length === 100) break;
        }
      }
      const last = list.at(-1)?.snapshot.caseId ?? "";
      const next = `/cases?${new URLSearchParams({ ...(q === "" ? {} : { q }), after: last, ...(url.searchParams.has("limit") ? { limit: String(limit) } : {}) }).toString()}`;
      return [
        "cases",
        `<h1>${esc(t("cases", lang))}</h1><form role="search"><label>${esc(t("search", lang))} <input name="q" value="${esc(q)}"></label> <button>🔍</button></form>
<table><tr><th>case</th><th>${esc(t("mode", lang))}</th><th>${esc(t("state", lang))}</th><th>${esc(t("partner", lang))}</th><th>${esc(t("item", lang))}</th><th>${esc(t("deadline", lang))}</th></tr>
${list.map((c) => `<tr data-case="${esc(c.snapshot.caseId)}"><td><a href="/cases/${esc(c.snapshot.caseId)}">${esc(c.snapshot.caseId)}</a>${c.caseNumber === undefined ? "" : `<br><small>${esc(c.caseNumber)}</small>`}</td><td>${esc(HandlingMode[c.snapshot.mode])}</td><td>${esc(CaseState[c.snapshot.state])}</td><td>${esc(c.partner)}</td><td>${esc(c.item?.name ?? c.basicCode)}</td><td class="${esc(c.deadlineLevel ?? "")}">${esc(c.deadlineLevel ?? "")}</td></tr>`).join("")}
${joints.map((j) => `<tr><td><a href="/cases/${esc(j.id)}">${esc(j.id)}</a></td><td>JOINT</td><td>${esc(j.overall)}</td><td>${esc(j.lead)}</td><td>${esc(j.bundle)}</td><td></td></tr>`).join("")}</table>
${more ? `<p><a rel="next" href="${esc(next)}">${esc(t("older", lang))} →</a></p>` : ""}`,
      ];
    },
    "/outbox": async (lang, _url, s) => {
      const box = (await unacknowledged()).sort((a, b) => a.order - b.order);
      const can = s.user.role === "operator";
      return [
        "outbox",
        `<h1>${esc(t("outbox", lang))}</h1><table><tr><th>${esc(t("message", lang))}</th><th>${esc(t("partner", lang))}</th><th>${esc(t("status", lang))}</th><th>${esc(t("attempts", lang))}</th><th>${esc(t("error", lang))}</th><th></th></tr>
${box.map((r) => `<tr data-message="${esc(r.messageId)}"><td><code>${esc(r.messageId)}</code></td><td>${esc(r.destination)}</td><td class="status">${esc(r.status)}</td><td>${r.attempts}</td><td>${esc(r.lastError === undefined ? "" : `${r.lastError.code}: ${r.lastError.message}`)}</td><td>${can ? `<form method="post" action="/outbox/${esc(r.messageId)}/retry" class="inline"><input type="hidden" name="csrf" value="${esc(s.csrf)}"><button>${esc(t("retry", lang))}</button></form> <form method="post" action="/outbox/${esc(r.messageId)}/give-up" class="inline"><input type="hidden" name="csrf" value="${esc(s.csrf)}"><button>${esc(t("giveUp", lang))}</button></form>` : ""}</td></tr>`).join("")}</table>`,
      ];
    },
    "/partners": async (lang) => {
      const d = node.directory;
      // The outbox's view: a partner not answering is held, and probed one message at a time.
      const reachability = (id: string): string => {
        const r = node.outbox.reachability(id);
        return r === undefined ? "yes" : `<span class="red">no</span> — ${r.failures} failed, next try ${esc(new Date(r.nextProbeAt).toISOString())}`;
      };
      // Pull mode (docs/node.md "Pull mode"): a partner that pulls from this node, or one this node pulls from.
      const pull = (p: { readonly nodeId: string; readonly delivery: string }): string => {
        if (p.delivery === "pull") {
          const st = node.pulls.state(p.nodeId);
          return `${st.connected ? "connected" : '<span class="red">not connected</span>'}, ${st.waiting} waiting`;
        }
        const ps = node.puller?.states().get(p.nodeId);
        if (ps === undefined) return "";
        return ps.connected ? `pulling: ${ps.taken} taken, ${ps.refused} refused` : `<span class="red">cannot pull</span>${ps.lastError === undefined ? "" : ` — ${esc(ps.lastError.code)}`}`;
      };
      // Last contact and error rate per partner, from the deliveries (the outbox ledger's tally, not a walk over them).
      const stats = new Map([...node.outboxLedger.destinations()].map(([d, t]) => [d, { last: t.lastContact, sent: t.sent, failed: t.failed }]));
      const certs = new Map<string, string>();
      for (const n of d.verified?.directory.nodes ?? []) {
        const ends = [...n.certificates.tls, ...n.certificates.signing].map((c) => new X509Certificate(c.pem).validTo).sort((a, b) => Date.parse(a) - Date.parse(b));
        if (ends[0] !== undefined) certs.set(n.nodeId, new Date(ends[0]).toISOString().slice(0, 10));
      }
      return [
        "partners",
        `<h1>${esc(t("partners", lang))}</h1><p>${esc(t("directory", lang))}: ${esc(d.status)}${d.version === undefined ? "" : ` v${d.version}`}</p>
<table><tr><th>node</th><th>address</th><th>source</th><th>certificates until</th><th>last contact</th><th>errors</th><th>reachable</th><th>pull</th></tr>${d.peers.map((p) => { const st = stats.get(p.nodeId); return `<tr data-partner="${esc(p.nodeId)}"><td>${esc(p.nodeId)}</td><td>${p.delivery === "pull" ? "pull" : esc(p.address ?? "")}</td><td>${esc(p.source)}</td><td>${esc(certs.get(p.nodeId) ?? "")}</td><td>${st === undefined || st.last === 0 ? "" : esc(new Date(st.last).toISOString())}</td><td>${st === undefined ? "" : `${st.failed}/${st.sent}`}</td><td class="reachable">${reachability(p.nodeId)}</td><td class="pull">${pull(p)}</td></tr>`; }).join("")}</table>`,
      ];
    },
    "/tables": async (lang) => [
      "tables",
      `<h1>${esc(t("tables", lang))}</h1><table><tr><th>publisher</th><th>kind</th><th>version</th><th>digest</th><th>source</th><th>signed</th></tr>${node.tables.inForce
        .map((h) => `<tr><td>${esc(h.table.publisher)}</td><td>${esc(h.table.kind)}</td><td>${esc(h.table.version)}</td><td><code>${esc(h.digest.slice(0, 16))}…</code></td><td>${esc(h.source === "fetched" ? "fetched from a peer" : h.file)}</td><td>${h.document === undefined ? "" : "✓"}</td></tr>`)
        .join("")}</table>${
        node.tables.missing.length === 0
          ? ""
          : `<h2>${esc(t("tablesMissing", lang))}</h2><table><tr><th>publisher</th><th>kind</th><th>version</th><th>digest</th><th>why</th></tr>${node.tables.missing.map((m) => `<tr class="missing"><td>${esc(m.publisher)}</td><td>${esc(m.kind)}</td><td>${esc(m.version)}</td><td><code>${esc(m.digest.slice(0, 16))}…</code></td><td>${esc(m.reason)}</td></tr>`).join("")}</table>`
      }`,
    ],
    "/evidence": async (lang) => {
      const latest = await node.evidence.checkpoints.latest();
      let cos = 0;
      if (latest !== undefined) for await (const _ of store.iterate(storeKeys.evidenceCosignature.range(latest.size))) cos++;
      return ["evidence", `<h1>${esc(t("evidence", lang))}</h1><p>${esc(t("checkpoint", lang))}: ${latest === undefined ? esc(t("none", lang)) : `${latest.size} entries, ${cos} cosignature(s)`}</p><p>Log size: ${node.evidence.log.size}</p>`];
    },
  };

  const jointPage = async (lang: Lang, id: string): Promise<[string, string] | undefined> => {
    const j = await node.joint.get(id);
    if (j === undefined) return undefined;
    // The sub-task DAG, dependencies first, each with what it waits for.
    const rows = j.order.map((tid) => {
      const task = j.tasks[tid]!;
      return `<tr><td><code>${esc(tid)}</code></td><td>${esc(task.site)}</td><td>${esc(task.item.name)} (${esc(task.item.basicCode)})</td><td>${task.dependsOn.map((d) => `← <code>${esc(d)}</code>`).join(" ") || "—"}</td><td data-task="${esc(tid)}">${esc(JointTaskState[task.snapshot.state])}</td><td>${esc(task.dueAt ?? "")}</td></tr>`;
    });
    return [
      "cases",
      `<h1>多地联办 · ${esc(id)}</h1><p>${esc(t("state", lang))}: <strong data-testid="joint-overall">${esc(j.overall)}</strong> · lead ${esc(j.lead)} · ${esc(j.bundle)}</p>
<h2>DAG</h2><table data-testid="dag"><tr><th>task</th><th>site</th><th>${esc(t("item", lang))}</th><th>after</th><th>${esc(t("state", lang))}</th><th>due</th></tr>${rows.join("")}</table>
<h2>${esc(t("materials", lang))}</h2><table><tr><th>id</th><th>name</th><th>SHA-256</th><th>bytes</th></tr>${j.materials.map((m) => `<tr><td>${esc(m.materialId)}</td><td>${esc(m.name)}</td><td><code>${esc(m.digest)}</code></td><td>${m.size}</td></tr>`).join("")}</table>
<h2>${esc(t("timeline", lang))}</h2><table>${j.timeline.map((x) => `<tr><td>${esc(x.at)}</td><td>${esc(x.site)}</td><td>${esc(x.type)}</td><td>${esc(x.state)}</td><td>${esc(x.note ?? "")}</td></tr>`).join("")}</table>
<p><a href="/evidence/bundle?case=${encodeURIComponent(id)}">${esc(t("bundle", lang))}</a></p>`,
    ];
  };

  const casePage = async (lang: Lang, id: string): Promise<[string, string] | undefined> => {
    const c = await node.desk.get(id);
    if (c === undefined) return jointPage(lang, id);
    let materials: { name: string; nationalCode: string; digest: string; size: string }[] = [];
    if (c.submission !== undefined) {
      const sub = fromBinary(ApplicationSubmissionSchema, Buffer.from(c.submission, "base64"));
      materials = sub.materials.map((m) => ({ name: m.name, nationalCode: m.nationalCode, digest: Buffer.from(m.digest).toString("hex"), size: String(m.size) }));
    }
    return [
      "cases",
      `<h1>${esc(t("cases", lang))} <code>${esc(id)}</code></h1>
<dl><dt>${esc(t("mode", lang))}</dt><dd>${esc(HandlingMode[c.snapshot.mode])}</dd><dt>${esc(t("state", lang))}</dt><dd data-testid="case-state">${esc(CaseState[c.snapshot.state])}</dd><dt>${esc(t("partner", lang))}</dt><dd>${esc(c.partner)}</dd><dt>${esc(t("item", lang))}</dt><dd>${esc(c.item?.name ?? "")} (${esc(c.basicCode)})</dd>
<dt>${esc(t("deadline", lang))}</dt><dd class="${esc(c.deadlineLevel ?? "")}" data-testid="deadline">${esc(c.deadlineLevel ?? t("none", lang))}${c.deadline === undefined ? "" : ` · ${esc(c.deadline.workingDays)} working days from ${esc(c.deadline.startedAt)}`}</dd></dl>
<h2>${esc(t("timeline", lang))}</h2><table data-testid="timeline"><tr><th>time</th><th>site</th><th>message</th><th>${esc(t("state", lang))}</th><th>note</th></tr>${c.timeline.map((s) => `<tr><td>${esc(s.at)}</td><td>${esc(s.site)}</td><td>${esc(s.type)}</td><td>${esc(s.state)}</td><td>${esc(s.note ?? "")}</td></tr>`).join("")}</table>
<h2>${esc(t("materials", lang))}</h2><table data-testid="materials"><tr><th>name</th><th>code</th><th>SHA-256</th><th>bytes</th></tr>${materials.map((m) => `<tr><td>${esc(m.name)}</td><td>${esc(m.nationalCode)}</td><td><code>${esc(m.digest)}</code></td><td>${esc(m.size)}</td></tr>`).join("")}</table>
${c.results === undefined ? "" : `<h2>${esc(t("seals", lang))}</h2><pre>${esc(JSON.stringify(c.results, null, 2))}</pre>`}
<p><a href="/evidence/bundle?case=${encodeURIComponent(id)}">${esc(t("bundle", lang))}</a></p>`,
    ];
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://console");
      const lang = langOf(req, url);
      const langCookie = url.searchParams.has("lang") ? { "set-cookie": `tb_lang=${lang}; Path=/; SameSite=Strict` } : {};
      if (url.pathname === "/login") {
        if (req.method === "POST") {
          const form = await readForm(req);
          const digest = createHash("sha256").update(form.get("token") ?? "", "utf8").digest();
          const user = options.users.find((u) => u.sha256.length === 64 && timingSafeEqual(Buffer.from(u.sha256, "hex"), digest));
          if (user === undefined) return send(res, 401, page(lang, undefined, loginForm(lang, true)));
          const sid = randomBytes(24).toString("base64url");
          sessions.set(sid, { user, csrf: randomBytes(16).toString("base64url") });
          return send(res, 303, "", { location: "/", "set-cookie": `tb_session=${sid}; HttpOnly; SameSite=Strict; Path=/` });
        }
        return send(res, 200, page(lang, undefined, loginForm(lang, false)), langCookie);
      }
      const session = sessionOf(req);
      // Unauthenticated: nothing but the login page.
      if (session === undefined) return send(res, req.method === "GET" ? 303 : 401, "", { location: "/login" });
      if (url.pathname === "/app.js") {
        res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
        return res.end(APP_JS);
      }
      if (url.pathname === "/events") {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
        res.write(": live\n\n");
        const stop = node.events.subscribe(() => res.write(`data: ${Date.now()}\n\n`));
        req.on("close", stop);
        return;
      }
      if (req.method === "POST") {
        const form = await readForm(req);
        if (form.get("csrf") !== session.csrf) return send(res, 403, page(lang, session, "<p>CSRF</p>"));
        if (url.pathname === "/logout") {
          for (const [k, v] of sessions) if (v === session) sessions.delete(k);
          return send(res, 303, "", { location: "/login", "set-cookie": "tb_session=; Max-Age=0; Path=/" });
        }
        const m = /^\/outbox\/([^/]+)\/(retry|give-up)$/.exec(url.pathname);
        if (m === null) return send(res, 404, page(lang, session, "<p>404</p>"));
        if (session.user.role !== "operator") return send(res, 403, page(lang, session, `<p role="alert">${esc(t("forbidden", lang))}</p>`));
        if (m[2] === "retry") await node.outbox.retryNow(m[1]!);
        else await node.outbox.giveUp(m[1]!);
        node.outbox.poke();
        return send(res, 303, "", { location: "/outbox" });
      }
      if (url.pathname === "/evidence/bundle") {
        const caseId = url.searchParams.get("case") ?? "";
        try {
          const bundle = await exportCaseBundle(store, caseId);
          res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-disposition": `attachment; filename="${caseId.replace(/[^A-Za-z0-9-]/g, "")}.bundle.json"` });
          return res.end(serializeCaseBundle(bundle));
        } catch (err) {
          return send(res, 404, page(lang, session, `<p role="alert">${esc(err instanceof Error ? err.message : String(err))}</p>`));
        }
      }
      let view: [string, string] | undefined;
      const cm = /^\/cases\/([^/]+)$/.exec(url.pathname);
      if (cm !== null) view = await casePage(lang, decodeURIComponent(cm[1]!));
      else if (views[url.pathname] !== undefined) view = await views[url.pathname]!(lang, url, session);
      if (view === undefined) return send(res, 404, page(lang, session, "<p>404</p>"));
      // A live refresh asks for the main part only.
      if (req.headers["x-partial"] === "1") return send(res, 200, view[1]);
      return send(res, 200, page(lang, session, view[1], view[0]), langCookie);
    })().catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `<p>${esc(err instanceof Error ? err.message : String(err))}</p>`);
    });
  });
  void now;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  return {
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function loginForm(lang: Lang, failed: boolean): string {
  return `<h1>${esc(t("login", lang))}</h1>${failed ? `<p role="alert" class="red">401</p>` : ""}<form method="post" action="/login"><label>${esc(t("token", lang))} <input type="password" name="token" autocomplete="off" required></label> <button>${esc(t("login", lang))}</button></form>`;
}

const CSS = `body{font:16px/1.5 system-ui,"PingFang SC","Noto Sans CJK SC",sans-serif;margin:0;color:#111;background:#fafafa}
header{display:flex;flex-wrap:wrap;gap:1em;align-items:center;padding:.6em 1em;background:#0b3d91;color:#fff}header a{color:#fff}nav a{margin-right:.8em}nav a[aria-current]{text-decoration:underline;font-weight:bold}
.who{margin-left:auto}main{padding:1em;max-width:1400px}table{border-collapse:collapse;width:100%;background:#fff}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}
.tiles{display:flex;flex-wrap:wrap;gap:1em}.tile{background:#fff;border:1px solid #ccc;padding:1em;min-width:9em}.tile .n{display:block;font-size:2.4em;font-weight:bold}
.yellow{background:#fff3b0}.red{background:#ffd6d6;color:#8b0000}.inline{display:inline}button{font:inherit;padding:.2em .8em}
@media (min-width:1800px){body{font-size:22px}}`;

/** Live updates: on every event the main part of the page is fetched again and swapped, without a reload. */
const APP_JS = `(() => {
  const es = new EventSource("/events");
  let pending = false;
  es.onmessage = () => {
    if (pending) return;
    pending = true;
    setTimeout(async () => {
      pending = false;
      const r = await fetch(location.href, { headers: { "x-partial": "1" } });
      if (r.ok) document.getElementById("main").innerHTML = await r.text();
    }, 200);
  };
})();
`;
