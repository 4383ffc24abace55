/**
 * The console's one style sheet, served by the daemon at /console/assets/console.css (kept in a module so
 * the compiled daemon carries it without copying asset files). Small screens first: tables scroll sideways,
 * forms stack, and the navigation wraps.
 */
export const CONSOLE_CSS = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232b;background:#f4f6f8}
a{color:#0b5cad}
header{background:#17324d;color:#fff;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1rem;align-items:center}
header .brand{font-weight:700;color:#fff;text-decoration:none;margin-right:.5rem}
header nav{display:flex;flex-wrap:wrap;gap:.2rem .9rem}
header nav a{color:#d7e6f5;text-decoration:none;padding:.15rem 0}
header nav a.active{color:#fff;border-bottom:2px solid #7fb8f0}
header .who{margin-left:auto;display:flex;gap:.6rem;align-items:center;font-size:.9rem;color:#d7e6f5}
header .who button{background:transparent;color:#fff;border:1px solid #7fa3c7;border-radius:4px;padding:.2rem .6rem;cursor:pointer}
.banner{background:#fff4ce;border-bottom:1px solid #e5cf7a;padding:.5rem 1rem;font-size:.92rem}
main{max-width:1100px;margin:0 auto;padding:1rem}
h1{font-size:1.35rem;margin:.3rem 0 1rem}
h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
.card>h2:first-child{margin-top:0}
.card{background:#fff;border:1px solid #dde3ea;border-radius:6px;padding:1rem;margin-bottom:1rem}
.notice{background:#e7f4e8;border:1px solid #a9d5ad;border-radius:6px;padding:.6rem .9rem;margin-bottom:1rem}
.error{background:#fdecea;border:1px solid #f1aaa3;border-radius:6px;padding:.6rem .9rem;margin-bottom:1rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #e6eaef;vertical-align:top;white-space:nowrap}
td.wrap{white-space:normal}
th{background:#eef2f6;font-weight:600;font-size:.88rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}
dt{color:#5a6672}
dd{margin:0;word-break:break-word}
form.search{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin-bottom:1rem}
label{display:flex;flex-direction:column;gap:.2rem;font-size:.88rem;color:#3c4650}
label.inline{flex-direction:row;align-items:center;gap:.4rem}
input,select,textarea{font:inherit;padding:.4rem .5rem;border:1px solid #b9c3ce;border-radius:4px;background:#fff;min-width:0}
textarea{min-height:5rem}
button{font:inherit;padding:.45rem .9rem;border-radius:4px;border:1px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b5cad}
a.button{display:inline-block;font:inherit;padding:.45rem .9rem;border-radius:4px;border:1px solid #0b5cad;background:#0b5cad;color:#fff;text-decoration:none}
a.button.secondary{background:#fff;color:#0b5cad}
.actions form{margin:0}
button.danger{background:#b42318;border-color:#b42318}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:.5rem 0 1rem}
.status{display:inline-block;padding:.05rem .45rem;border-radius:999px;font-size:.82rem;background:#e6eaef}
.status-delivered,.status-mailed{background:#d9f2dc;color:#1e6b2a}
.status-failed,.status-abandoned,.status-canceled{background:#fde2df;color:#8c1d13}
.status-placed,.status-queued,.status-received{background:#e3eefb;color:#194c85}
.pages{display:flex;flex-wrap:wrap;gap:.8rem}
.pages figure{margin:0;background:#fff;border:1px solid #dde3ea;padding:.4rem;max-width:100%}
.pages img{display:block;width:260px;max-width:100%;height:auto;aspect-ratio:17/22;object-fit:contain;background:#fff;border:1px solid #eee}
.pages figcaption{font-size:.8rem;color:#5a6672;text-align:center}
.pager{margin:.8rem 0}
.signin{max-width:360px;margin:2rem auto}
.signin form{display:flex;flex-direction:column;gap:.8rem}
.stack{display:flex;flex-direction:column;gap:.8rem;max-width:520px}
.muted{color:#5a6672}
@media (max-width:600px){
  main{padding:.6rem}
  header .who{margin-left:0;width:100%}
  form.search>*{flex:1 1 45%}
  dl{grid-template-columns:1fr}
  dt{font-weight:600;color:#1d232b}
  /* Lists become one card per row, each value under its column's name: nothing hides off to the right. */
  table.list thead{display:none}
  table.list tr{display:block;border-bottom:1px solid #dde3ea;padding:.3rem 0}
  table.list td{display:flex;gap:1rem;justify-content:space-between;border:0;padding:.15rem .6rem;white-space:normal}
  table.list td[data-label]::before{content:attr(data-label);color:#5a6672;font-size:.85rem}
  table.list td:empty{display:none}
  .pages figure{flex:1 1 40%}
  .pages img{width:100%}
}
`;
