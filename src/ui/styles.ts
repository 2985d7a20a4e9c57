/**
 * The admin UI's whole stylesheet, inlined into each page under the CSP nonce: no external assets,
 * so the UI works offline and the CSP can stay `default-src 'none'`. Mobile first (375 px), with a
 * sidebar from 900 px. Colours meet WCAG AA contrast on white. Under 640 px a table whose cells carry
 * `data-label` becomes one card per row (each cell labelled by its column), because a table that
 * scrolls sideways hides its last columns (the error, the buttons) with no hint that they exist.
 * The label is in the body font also where the value is monospace (an event or customer id).
 */
export const STYLES = `
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa;--card:#fff;--accent:#0b5cad;--accent-fg:#fff;
--ok:#1a7f37;--ok-bg:#dafbe1;--warn:#8a5a00;--warn-bg:#fff4d1;--bad:#b42318;--bad-bg:#ffe4e1;--info-bg:#ddf4ff;
--delivered:#2da44e;--retrying:#d4a72c;--dead:#cf222e;--paused:#8250df;
--body-font:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-family:var(--body-font)}
*{box-sizing:border-box}
body{margin:0;color:var(--fg);background:var(--bg);font-size:16px;line-height:1.5}
a{color:var(--accent)}
:focus-visible{outline:3px solid #0969da;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:.5rem 1rem;z-index:10}
.skip:focus{left:.5rem}
header.top{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem;
padding:.6rem 1rem;background:#0d2847;color:#fff}
header.top a{color:#fff;text-decoration:none;font-weight:600}
header.top .env{font-size:.8rem;background:#ffffff22;border-radius:1rem;padding:.1rem .6rem;margin-left:.5rem}
header.top form{margin:0}
header.top button{background:transparent;color:#fff;border:1px solid #ffffff88}
nav.side ul{list-style:none;margin:0;padding:.5rem;display:flex;flex-wrap:wrap;gap:.25rem}
nav.side{background:var(--card);border-bottom:1px solid var(--line)}
nav.side a{display:block;padding:.4rem .7rem;border-radius:6px;text-decoration:none;color:var(--fg)}
nav.side a[aria-current=page]{background:var(--accent);color:var(--accent-fg)}
nav.side a:hover{background:#eaeef2}
nav.side a[aria-current=page]:hover{background:var(--accent)}
main{padding:1rem;max-width:1100px;min-width:0}
h1{font-size:1.5rem;margin:.2rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .6rem}
h3{font-size:1rem;margin:1rem 0 .4rem}
p.lead{color:var(--muted);margin-top:-.5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin:0 0 1rem}
.card>h2:first-child,.card>h3:first-child{margin-top:0}
.grid{display:grid;gap:0 1rem;grid-template-columns:minmax(0,1fr)}
.stats{display:grid;gap:.75rem;grid-template-columns:repeat(2,minmax(0,1fr));margin:0 0 1rem}
.stat{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.75rem;color:inherit;text-decoration:none}
.stat:hover{border-color:var(--accent)}
.stat .n{font-size:1.6rem;font-weight:700;display:block}
.stat .l{color:var(--muted);font-size:.9rem}
label{display:block;font-weight:600;margin:.2rem 0}
fieldset{min-width:0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.88em;background:#eaeef2;border-radius:4px;padding:0 .25rem}
.hint{color:var(--muted);font-size:.9rem;margin:.1rem 0 .3rem}
input[type=text],input[type=url],input[type=file],input[type=password],input[type=number],input[type=search],input[type=datetime-local],input[type=time],input[type=date],select,textarea{
width:100%;padding:.5rem .6rem;border:1px solid #8c959f;border-radius:6px;font:inherit;background:#fff;color:var(--fg)}
select,input[type=text],input[type=url],input[type=password],input[type=number],input[type=search],input[type=datetime-local],input[type=time],input[type=date]{min-height:2.6rem}
td.nowrap{white-space:nowrap}
textarea{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem;min-height:8rem}
input[readonly]{background:var(--bg)}
[aria-invalid=true]{border-color:var(--bad);box-shadow:0 0 0 1px var(--bad)}
.field{margin:0 0 .9rem}
.error{color:var(--bad);font-weight:600;margin:.2rem 0 0;font-size:.92rem}
.check{display:flex;gap:.5rem;align-items:flex-start}
.check input{margin-top:.35rem;width:1.1rem;height:1.1rem}
.check label{margin:0}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.5rem 1rem;border-radius:6px;border:1px solid var(--accent);
background:var(--accent);color:var(--accent-fg);cursor:pointer;text-decoration:none;min-height:2.5rem}
button.secondary,.button.secondary{background:#fff;color:var(--accent)}
button.danger{background:#fff;color:var(--bad);border-color:var(--bad)}
button.small{padding:.25rem .6rem;min-height:2rem;font-size:.9rem}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-top:.5rem}
.actions form{margin:0}
.notice{border-radius:8px;padding:.7rem 1rem;margin:0 0 1rem;border:1px solid}
.notice.ok{background:var(--ok-bg);border-color:var(--ok)}
.notice.bad{background:var(--bad-bg);border-color:var(--bad)}
::placeholder{color:#8a8f98;font-style:italic;opacity:1}
.notice.warn{background:var(--warn-bg);border-color:var(--warn)}
.notice.info{background:var(--info-bg);border-color:#54aeff}
.notice ul{margin:.3rem 0 0;padding-left:1.2rem}
.badge{display:inline-block;max-width:100%;border-radius:1rem;padding:0 .55rem;font-size:.82rem;font-weight:600;border:1px solid;overflow-wrap:break-word}
.badge.delivered,.badge.ok,.badge.active{color:var(--ok);background:var(--ok-bg)}
.badge.retrying,.badge.pending,.badge.paused,.badge.warn{color:var(--warn);background:var(--warn-bg)}
.badge.dead,.badge.bad{color:var(--bad);background:var(--bad-bg)}
.badge.inactive,.badge.muted{color:var(--muted);background:var(--bg)}
.table-wrap{position:relative;overflow-x:auto;margin:0 0 1rem;background:var(--card);border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.5rem .6rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--bg);font-weight:600;white-space:nowrap}
tr:last-child td{border-bottom:0}
tr.linked{position:relative}
tr.linked:hover td,tr.linked:focus-within td{background:var(--bg)}
a.row-link::after{content:"";position:absolute;inset:0}
tr.linked td a:not(.row-link){position:relative;z-index:1}
.command-results{margin:.3rem 0 .5rem;padding-left:1.4rem}
.command-results li{margin:.15rem 0}
.command-results li.refused,.card.refused{border-left:4px solid var(--bad);padding-left:.5rem}
.error-text{color:var(--bad);font-weight:600}
.replay-divider{padding:.4rem .75rem;border-left:4px solid var(--accent);background:var(--bg);border-radius:4px}
td.mono,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem;word-break:break-all}
pre{max-width:100%;background:#0d1117;color:#e6edf3;padding:.75rem;border-radius:6px;overflow:auto;font-size:.82rem;margin:.3rem 0;max-height:28rem;
white-space:pre-wrap;overflow-wrap:anywhere}
details>summary{cursor:pointer;font-weight:600;padding:.2rem 0}
ol.summary li.mine{border-left:4px solid var(--accent);padding-left:.4rem;font-weight:600}
.rows{display:grid;gap:.5rem;grid-template-columns:minmax(0,1fr)}
ol.rows{list-style:none;padding:0;margin:0 0 1rem}
.row{display:grid;grid-template-columns:minmax(0,1fr);gap:.4rem;padding:.6rem;border:1px solid var(--line);border-radius:6px;background:var(--bg)}
.row .field{margin:0}
.row label{font-size:.9rem}
.locked{display:flex;gap:.75rem;align-items:flex-start;background:var(--bg);border:1px dashed #8c959f;border-radius:6px;padding:.75rem;margin:0 0 .9rem}
.locked svg{flex:none;margin-top:.2rem}
.locked p{margin:0}
.flow{list-style:none;margin:0;padding:0}
.flow>li{position:relative;margin:0 0 1.5rem}
.flow>li:not(:last-child)::after{content:"";position:absolute;left:1.4rem;bottom:-1.5rem;height:1.5rem;border-left:3px solid #8c959f}
.node{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--accent);border-radius:8px;padding:.75rem 1rem}
.node.trigger{border-left-color:#8250df}
.node.filter{border-left-color:#bf8700}
.node.action{border-left-color:#1a7f37}
.node h3{margin:0 0 .5rem;display:flex;gap:.5rem;align-items:center;flex-wrap:wrap}
.node .kind{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.node.trigger:has(#f-trigger-type-event:checked) .when-date{display:none}
.node.trigger:has(#f-trigger-type-date:checked) .when-event{display:none}
.empty{text-align:center;color:var(--muted);padding:2rem 1rem;background:var(--card);border:1px dashed var(--line);border-radius:8px}
.chart svg{width:100%;height:auto;display:block;margin:.5rem 0}
.chart .wide{display:none}
.legend{display:flex;flex-wrap:wrap;gap:1rem;font-size:.9rem;margin:.4rem 0 0;padding:0;list-style:none}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.3rem;vertical-align:-1px}
.swatch.delivered{background:var(--delivered)}.swatch.retrying{background:var(--retrying)}.swatch.dead{background:var(--dead)}.swatch.paused{background:var(--paused)}
ul.failures{list-style:none;margin:0;padding:0}
ul.failures li{padding:.45rem 0;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
ul.failures li:last-child{border-bottom:0}
ul.failures .meta{display:block;font-size:.9rem}
ul.failures .reason{display:block;color:var(--muted);font-size:.9rem}
ul.matches{margin:.3rem 0 0;padding-left:1.2rem}
ul.matches li{margin:.2rem 0;overflow-wrap:anywhere}
progress{width:100%;height:1.2rem}
dl.kv{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.3rem 1rem;margin:0}
dl.kv dt{font-weight:600;color:var(--muted)}
dl.kv dd{margin:0;word-break:break-word}
.checks{list-style:none;padding:0;margin:.5rem 0 0}
.checks li{padding:.4rem 0;border-bottom:1px solid var(--line)}
.filters{display:grid;gap:0 .75rem;grid-template-columns:minmax(0,1fr)}
.more-filters{margin:.1rem 0 .4rem}
.more-filters>summary{padding:.35rem 0;color:var(--accent)}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.login{max-width:24rem;margin:3rem auto}
@media (max-width:639.98px){
.table-wrap:has(td[data-label]){overflow:visible;background:transparent;border:0;border-radius:0}
table:has(td[data-label]),table:has(td[data-label]) tbody,tr:has(>td[data-label]){display:block;width:100%}
table:has(td[data-label]) thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
tr:has(>td[data-label]){background:var(--card);border:1px solid var(--line);border-radius:8px;margin:0 0 .6rem;padding:.35rem 0}
td[data-label]{display:block;position:relative;padding:.3rem .75rem .3rem 8.5rem;border:0;min-height:1.9rem;overflow-wrap:anywhere;white-space:normal}
td[data-label]::before{content:attr(data-label);position:absolute;left:.75rem;width:7.25rem;font-weight:600;color:var(--muted);
font-family:var(--body-font);font-size:.92rem;word-break:normal}
td[data-label=""]{padding-left:.75rem}
td[data-label=""]::before{content:none}
}
@media (min-width:640px){
.chart .wide{display:block}
.chart .narrow{display:none}
.stats{grid-template-columns:repeat(3,minmax(0,1fr))}
.row{grid-template-columns:minmax(0,1fr) minmax(0,1fr) auto;align-items:end}
.row.three{grid-template-columns:repeat(3,minmax(0,1fr)) auto}
.filters{grid-template-columns:repeat(4,minmax(0,1fr)) auto;align-items:end}
.filters.single{grid-template-columns:minmax(0,28rem) auto}
.more-filters{grid-column:1/-1}
.grid.two{grid-template-columns:repeat(2,minmax(0,1fr))}
}
/* From 640 px the folded filters take their places in the grid, open or not: where the browser can
   show a closed <details>' content (elsewhere they stay folded, as on a phone). */
@supports selector(::details-content){@media (min-width:640px){
.more-filters{display:contents}
.more-filters>summary{display:none}
.more-filters::details-content{display:contents;content-visibility:visible}
}}
@media (min-width:900px){
.shell{display:grid;grid-template-columns:13rem minmax(0,1fr);min-height:calc(100vh - 3rem)}
nav.side{border-bottom:0;border-right:1px solid var(--line)}
nav.side ul{flex-direction:column;padding:1rem .6rem}
main{padding:1.5rem 2rem}
.stats{grid-template-columns:repeat(6,minmax(0,1fr))}
}
`;
