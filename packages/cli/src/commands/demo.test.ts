import { describe, expect, it } from "vitest";
import { run } from "../program.js";

describe("tongban demo", () => {
  it("runs the remote-receipt exchange and every attack is refused with its code", async () => {
    let out = "";
    let err = "";
    const code = await run(["--json", "demo", "envelope"], { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
    expect(code).toBe(0);
    const result = JSON.parse(out) as { ok: boolean; steps: { what: string; outcome: string }[] };
    expect(result.ok).toBe(true);
    const outcome = (what: string) => result.steps.find((s) => s.what.startsWith(what))?.outcome;
    expect(outcome("resolve 青浦's")).toContain('吴江 item "补发婚姻登记证"');
    expect(outcome("translate the form")).toContain("出生年月日=1949年12月31日");
    expect(outcome("resolve 老年人优待证办理 for 万年")).toContain("GAP_ITEM_NOT_OFFERED; nearest at 万年: 老年优待证申领");
    expect(outcome("forward the application")).toContain("personal data visible in transit: no");
    expect(outcome("verify the receipt")).toBe("binds exactly the bytes sent");
    expect(outcome("deliver the same envelope again")).toContain("duplicate");
    expect(outcome("change one byte of the ciphertext")).toBe("refused: ENVELOPE_BODY_DIGEST_MISMATCH");
    expect(outcome("change one byte of the signed header")).toBe("refused: ENVELOPE_BAD_SIGNATURE");
    expect(outcome("deliver 青浦's envelope to 嘉善")).toBe("refused: ENVELOPE_WRONG_RECIPIENT");
    expect(outcome("reuse the message id")).toBe("refused: ENVELOPE_REPLAYED");
    expect(outcome("嘉善's key signs")).toBe("refused: TRUST_SIGNER_MISMATCH");
    expect(outcome("嘉善's signing certificate is revoked")).toBe("refused: TRUST_CERT_REVOKED");
    expect(err).toContain("removed at the end");
  });
});
