"""What both fake gateways share: clock, fault rules, webhook sender, test cards, server helpers."""
