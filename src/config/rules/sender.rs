//! Who a message is from: `senderType`, `fromMessagingServiceSID` and `fromPhoneNumber`.

use super::*;

/// `senderType` picks the sender; without it, `fromMessagingServiceSID` (the JS connector's
/// only sender) and/or `fromPhoneNumber`. `None` only with an issue recorded.
pub(super) fn sender(object: &Map<String, Value>, issues: &mut Issues) -> Option<Sender> {
    match senders(object, issues) {
        (Some(service), Some(from)) => Some(Sender::Both {
            messaging_service_sid: service,
            from,
        }),
        (Some(service), None) => Some(Sender::MessagingService(service)),
        (None, Some(from)) => Some(Sender::From(from)),
        (None, None) => None,
    }
}

pub(super) fn senders(
    object: &Map<String, Value>,
    issues: &mut Issues,
) -> (Option<String>, Option<crate::sender::FromAddress>) {
    match choice(
        object,
        "senderType",
        &["messagingService", "phoneNumber"],
        issues,
    ) {
        None => sender_by_presence(object, issues),
        Some(Err(())) => (None, None),
        Some(Ok("messagingService")) => {
            let because = "senderType is messagingService";
            let sid = chosen_string(object, "fromMessagingServiceSID", because, issues);
            // Only with the explicit choice: without it the JS connector's rule (any string)
            // holds, so configs it accepts keep working.
            if sid.as_deref().is_some_and(|sid| !sid.starts_with("MG")) {
                issues.push(
                    vec!["fromMessagingServiceSID".into()],
                    "invalid_string",
                    "Must be a Messaging Service SID, which starts with MG (Twilio Console → \
                     Messaging → Services); a phone number, short code or sender ID goes in \
                     fromPhoneNumber with senderType phoneNumber",
                );
                return (None, None);
            }
            (sid, None)
        }
        Some(Ok(_)) => {
            let because = "senderType is phoneNumber";
            let from = chosen_string(object, "fromPhoneNumber", because, issues);
            (None, from.and_then(|from| classify_sender(&from, issues)))
        }
    }
}

/// `fromPhoneNumber`: any sender Twilio accepts as `From` (`crate::sender::classify`, the one place
/// the forms and E.164 are defined), with its message saying which form was expected.
pub(super) fn classify_sender(
    value: &str,
    issues: &mut Issues,
) -> Option<crate::sender::FromAddress> {
    match crate::sender::classify(value) {
        Ok(from) => Some(from),
        Err(message) => {
            issues.push(vec!["fromPhoneNumber".into()], "invalid_string", message);
            None
        }
    }
}

pub(super) fn sender_by_presence(
    object: &Map<String, Value>,
    issues: &mut Issues,
) -> (Option<String>, Option<crate::sender::FromAddress>) {
    let number = new_optional_string(object, "fromPhoneNumber", issues);
    let number_given = new_optional(object, "fromPhoneNumber").is_some();
    let number = number.and_then(|number| classify_sender(&number, issues));
    let service = match object.get("fromMessagingServiceSID") {
        // With a sender number, an empty service SID is a cleared Console field, not a sender.
        Some(Value::String(sid)) if sid.is_empty() && number_given => None,
        Some(Value::String(sid)) => Some(sid.clone()),
        Some(other) => {
            issues.type_mismatch(vec!["fromMessagingServiceSID".into()], "string", other);
            None
        }
        None if number_given => None,
        None => {
            issues.required(
                vec!["fromMessagingServiceSID".into()],
                "string",
                "undefined",
                "Required: expected a string (or set fromPhoneNumber to send from a phone number)",
            );
            None
        }
    };
    (service, number)
}

#[cfg(test)]
mod tests {
    use super::super::tests::messages;
    use super::*;
    use crate::config::fixture::{valid, with};
    use crate::sender::is_e164;
    use serde_json::json;

    #[test]
    fn a_sender_number_can_replace_the_messaging_service() {
        let mut value = valid();
        value
            .as_object_mut()
            .unwrap()
            .remove("fromMessagingServiceSID");
        assert!(messages(&value)[0].starts_with("fromMessagingServiceSID: Required"));
        value["fromPhoneNumber"] = json!("+15551234567");
        let config = Config::from_value(&value).unwrap();
        assert_eq!(config.sender.messaging_service_sid(), None);
        assert_eq!(
            config.sender.sent_as_from().map(|f| f.as_str()),
            Some("+15551234567")
        );
        // An empty service SID next to a number is a cleared field, not a sender.
        value["fromMessagingServiceSID"] = json!("");
        assert_eq!(
            Config::from_value(&value)
                .unwrap()
                .sender
                .messaging_service_sid(),
            None
        );
        // Both: both are sent (Twilio then wants the number in the service's sender pool).
        value["fromMessagingServiceSID"] = json!("MG1");
        assert_eq!(
            Config::from_value(&value)
                .unwrap()
                .sender
                .messaging_service_sid(),
            Some("MG1")
        );
        for (bad, says) in [
            (
                "15551234567",
                "expected a short code, which has 5 or 6 digits",
            ),
            ("+0123", "not an E.164 phone number"),
            ("+1", "not an E.164 phone number"),
            ("+1234567890123456", "not an E.164 phone number"),
            ("+1 555", "only digits"),
            ("+1-555-0100", "only digits"),
            ("++15", "only digits"),
            ("ACME Bank Ltd", "at most 11"),
            ("ACME.Bank", "is not allowed"),
            ("12-34", "at least one letter"),
        ] {
            let errors = messages(&with("fromPhoneNumber", json!(bad)));
            assert_eq!(errors.len(), 1, "{bad}");
            assert!(errors[0].starts_with("fromPhoneNumber: "), "{bad}");
            assert!(errors[0].contains(says), "{bad}: {}", errors[0]);
        }
        // Short codes and alphanumeric sender IDs are senders too, sent as `From` unchanged.
        for (good, kind) in [
            ("12345", "short code"),
            ("ACME", "alphanumeric sender ID"),
            ("ACME-Bank", "alphanumeric sender ID"),
            ("ACME_2FA", "alphanumeric sender ID"),
            ("+4930123456", "E.164 phone number"),
        ] {
            let config = Config::from_value(&with("fromPhoneNumber", json!(good))).unwrap();
            let from = config.sender.sent_as_from().unwrap();
            assert_eq!((from.as_str(), from.kind()), (good, kind));
        }
        for good in ["+12", "+123456789012345", "+4930123456"] {
            assert!(is_e164(good), "{good}");
        }
        assert_eq!(
            messages(&with("fromPhoneNumber", json!(15551234567u64))),
            vec!["fromPhoneNumber: Expected string, received number"]
        );
    }
}
