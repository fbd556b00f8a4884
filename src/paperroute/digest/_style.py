"""Inline CSS of digest mail. Mail clients drop <style> blocks and external sheets (Gmail
keeps only inline styles on some clients, Outlook renders with Word), so every element
carries its own style, layout is tables, and colours are plain hex."""

FONT = "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif"
PAGE = f"margin:0;padding:0;background:#f4f5f7;{FONT};color:#1f2328"
# Fluid up to 600 px: width=100% with a max-width (a phone at 390 px gets the full width,
# a desktop client a 600 px column); long words and URLs wrap instead of widening it.
CARD = (
    "width:100%;max-width:600px;box-sizing:border-box;background:#ffffff;"
    "border:1px solid #d8dee4;border-radius:6px;padding:20px;"
    "overflow-wrap:break-word;word-wrap:break-word;word-break:break-word"
)
HEADING = f"{FONT};font-size:20px;font-weight:600;margin:0 0 4px 0;color:#1f2328"
SUBTLE = f"{FONT};font-size:13px;color:#59636e;margin:0 0 16px 0"
TITLE = f"{FONT};font-size:16px;font-weight:600;color:#0b57d0;text-decoration:none"
AUTHORS = f"{FONT};font-size:13px;color:#59636e;margin:4px 0"
ABSTRACT = f"{FONT};font-size:14px;line-height:20px;color:#1f2328;margin:6px 0"
REASON = (
    f"{FONT};font-size:12px;color:#1a7f37;background:#dafbe1;border-radius:10px;"
    "padding:2px 8px;display:inline-block"
)
SECTION = f"{FONT};font-size:17px;font-weight:600;margin:8px 0 2px 0;color:#1f2328"
LINK = f"{FONT};font-size:13px;color:#0b57d0;text-decoration:underline"
RULE = "border:0;border-top:1px solid #d8dee4;margin:16px 0"
FOOTER = f"{FONT};font-size:12px;color:#59636e;line-height:18px"
BUTTON = (
    f"{FONT};display:inline-block;background:#0b57d0;color:#ffffff;padding:10px 16px;"
    "border-radius:6px;text-decoration:none;font-weight:600"
)
