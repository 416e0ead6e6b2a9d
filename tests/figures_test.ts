/**
 * Runs every crossval and quality group on small inputs; each figure must be ok.
 * One Deno test per group, so a failure names the group and the figure.
 */
import { CHECKED_KINDS, listGroups, loadGroup } from "./figure.ts";

for (const kind of CHECKED_KINDS) {
  for (const group of await listGroups(kind)) {
    Deno.test({
      name: `${kind} ${group} (small): every figure ok`,
      sanitizeResources: false,
      sanitizeOps: false,
      fn: async () => {
        const run = await loadGroup(kind, group);
        const bad: string[] = [];
        let count = 0;
        for await (const figure of run({ small: true, progress: () => {} })) {
          count++;
          if (figure.ok === false) bad.push(JSON.stringify(figure));
        }
        if (count === 0) throw new Error(`${kind} ${group} produced no figure`);
        if (bad.length > 0) throw new Error(`not ok:\n${bad.join("\n")}`);
      },
    });
  }
}
