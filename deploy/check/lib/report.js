'use strict';
// One line per check: "ok   <check>: <summary>" or "FAIL <check>" followed by the reasons.
// A failure sets the exit code but lets the remaining checks of the same script run.
function report(name, summary, errors) {
  if (errors.length === 0) {
    console.log(`ok   ${name}: ${summary}`);
    return true;
  }
  console.log(`FAIL ${name}: ${errors.length} problem(s)`);
  for (const e of errors.slice(0, 50)) console.log(`     - ${String(e).replace(/\n/g, '\n       ')}`);
  if (errors.length > 50) console.log(`     ... and ${errors.length - 50} more`);
  process.exitCode = 1;
  return false;
}

function skip(name, why) {
  console.log(`skip ${name}: ${why}`);
}

module.exports = { report, skip };
